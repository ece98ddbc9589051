package io.storyportal.l04;

import io.storyportal.kernel.Headers;
import io.storyportal.kernel.PlatformException;
import io.storyportal.kernel.op.OperationCall;

/**
 * The models an API key may call ({@code x-allowed-models}, set by the entry point that verified
 * the key from the key's {@code models}; absent: any). A model is allowed when the list names it
 * or, for an alias, the alias or its target; names compare as Ollama's do. A fallback the
 * operator configured may still answer: the list limits what a key asks for.
 */
final class ModelAccess {

  private ModelAccess() {
  }

  /** Whether a caller with {@code allowed} (the header's value, or null) may see or call {@code model} (standing for {@code target}). */
  static boolean permits(String allowed, String model, String target) {
    if (allowed == null) {
      return true;
    }
    for (String m : allowed.split(",")) {
      String c = Backend.canonical(m.trim());
      if (c.equals(Backend.canonical(model)) || (target != null && c.equals(Backend.canonical(target)))) {
        return true;
      }
    }
    return false;
  }

  /** The 403 for a call of a model its key may not call, or null when it may. */
  static PlatformException refusal(OperationCall call, ModelAliases aliases) {
    String allowed = call.header(Headers.ALLOWED_MODELS);
    if (allowed == null) {
      return null;
    }
    String model = call.input().getString("model");
    if (permits(allowed, model, aliases.resolve(model))) {
      return null;
    }
    return new PlatformException(403, "MODEL_NOT_ALLOWED", "this API key may not call model '" + model + "' (it may call: "
      + allowed.replace(",", ", ") + ")");
  }
}
