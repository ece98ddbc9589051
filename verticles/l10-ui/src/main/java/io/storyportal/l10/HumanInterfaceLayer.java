package io.storyportal.l10;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operations;

/**
 * L10: human interface: the dashboard and its real-time WebSocket.
 *
 * <p>Serves the kernel's operations ({@code GET /info}, health, metrics) on its port; the layer's
 * own operations are added to {@link #declare(Operations)} as their issues land.
 */
public final class HumanInterfaceLayer extends LayerVerticle {

  public HumanInterfaceLayer() {
    super(LayerId.L10);
  }

  @Override
  protected void declare(Operations ops) {
    // The layer's own operations join here (see docs/ARCHITECTURE.md, "Operations").
  }
}
