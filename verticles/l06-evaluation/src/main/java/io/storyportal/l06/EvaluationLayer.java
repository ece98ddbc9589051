package io.storyportal.l06;

import io.storyportal.kernel.LayerId;
import io.storyportal.kernel.LayerVerticle;
import io.storyportal.kernel.op.Operations;

/**
 * L06: evaluation: scoring of runs and outputs.
 *
 * <p>Serves the kernel's operations ({@code GET /info}, health, metrics) on its port; the layer's
 * own operations are added to {@link #declare(Operations)} as their issues land.
 */
public final class EvaluationLayer extends LayerVerticle {

  public EvaluationLayer() {
    super(LayerId.L06);
  }

  @Override
  protected void declare(Operations ops) {
    // The layer's own operations join here (see docs/ARCHITECTURE.md, "Operations").
  }
}
