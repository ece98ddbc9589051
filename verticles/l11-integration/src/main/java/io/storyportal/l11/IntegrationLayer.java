package io.storyportal.l11;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operations;

/**
 * L11: integration: webhooks and external systems.
 *
 * <p>Serves the kernel's operations ({@code GET /info}, health, metrics) on its port; the layer's
 * own operations are added to {@link #declare(Operations)} as their issues land.
 */
public final class IntegrationLayer extends LayerVerticle {

  public IntegrationLayer() {
    super(LayerId.L11);
  }

  @Override
  protected void declare(Operations ops) {
    // The layer's own operations join here (see docs/ARCHITECTURE.md, "Operations").
  }
}
