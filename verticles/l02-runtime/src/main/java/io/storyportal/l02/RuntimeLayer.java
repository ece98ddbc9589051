package io.storyportal.l02;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operations;

/**
 * L02: agent runtime: runs agents through their tasks and records every step.
 *
 * <p>Serves the kernel's operations ({@code GET /info}, health, metrics) on its port; the layer's
 * own operations are added to {@link #declare(Operations)} as their issues land.
 */
public final class RuntimeLayer extends LayerVerticle {

  public RuntimeLayer() {
    super(LayerId.L02);
  }

  @Override
  protected void declare(Operations ops) {
    // The layer's own operations join here (see docs/ARCHITECTURE.md, "Operations").
  }
}
