package io.storyportal.l05;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operations;

/**
 * L05: planning: goals into plans of tasks, deliberation.
 *
 * <p>Serves the kernel's operations ({@code GET /info}, health, metrics) on its port; the layer's
 * own operations are added to {@link #declare(Operations)} as their issues land.
 */
public final class PlanningLayer extends LayerVerticle {

  public PlanningLayer() {
    super(LayerId.L05);
  }

  @Override
  protected void declare(Operations ops) {
    // The layer's own operations join here (see docs/ARCHITECTURE.md, "Operations").
  }
}
