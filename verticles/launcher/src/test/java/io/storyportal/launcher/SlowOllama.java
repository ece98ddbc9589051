package io.storyportal.launcher;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;

/** A slow Ollama for stop tests: {@code llama3.2} answers ten tokens ("x"), one every 200 ms. */
final class SlowOllama {

  private SlowOllama() {
  }

  static HttpServer start(Vertx vertx) {
    return vertx.createHttpServer().requestHandler(req -> {
      if (req.path().equals("/api/tags")) {
        req.response().end("{\"models\":[{\"name\":\"llama3.2:latest\"}]}");
        return;
      }
      if (req.path().equals("/api/ps")) {
        req.response().end("{\"models\":[]}");
        return;
      }
      req.body().onSuccess(b -> {
        HttpServerResponse resp = req.response().setChunked(true);
        int[] sent = {0};
        vertx.setPeriodic(200, id -> {
          if (sent[0]++ < 10) {
            resp.write("{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false}\n");
          } else {
            vertx.cancelTimer(id);
            resp.end("{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
              + "\"done_reason\":\"stop\",\"prompt_eval_count\":1,\"eval_count\":10}\n");
          }
        });
      });
    }).listen(0, "127.0.0.1").await();
  }
}
