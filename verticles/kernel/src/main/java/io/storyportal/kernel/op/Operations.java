package io.storyportal.kernel.op;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The operation table of one layer: each operation with the one handler that serves it. */
public final class Operations {

  /** An operation and its handler; exactly one of the two handlers is set. */
  public record Binding(Operation operation, OperationHandler handler, StreamHandler streamHandler) {
  }

  private final String layer;
  private final List<Binding> bindings = new ArrayList<>();
  private final Set<String> routes = new HashSet<>();

  public Operations(String layer) {
    this.layer = layer;
  }

  public Operations add(Operation op, OperationHandler handler) {
    if (op.streaming()) {
      throw new IllegalArgumentException(op.address() + " is streaming: register a StreamHandler");
    }
    return bind(new Binding(op, handler, null));
  }

  public Operations stream(Operation op, StreamHandler handler) {
    return bind(new Binding(op.streaming() ? op : op.streamingOutput(), null, handler));
  }

  private Operations bind(Binding b) {
    Operation op = b.operation();
    if (!op.layer().equals(layer)) {
      throw new IllegalArgumentException(op.address() + " does not belong to layer " + layer);
    }
    if (bindings.stream().anyMatch(x -> x.operation().address().equals(op.address()))) {
      throw new IllegalArgumentException("operation declared twice: " + op.address());
    }
    if (!routes.add(op.method() + " " + op.routerPath().replaceAll(":[A-Za-z0-9_]+", ":"))) {
      throw new IllegalArgumentException("route declared twice: " + op.method() + " " + op.path());
    }
    bindings.add(b);
    return this;
  }

  public List<Binding> bindings() {
    return Collections.unmodifiableList(bindings);
  }

  public List<Operation> operations() {
    return bindings.stream().map(Binding::operation).toList();
  }
}
