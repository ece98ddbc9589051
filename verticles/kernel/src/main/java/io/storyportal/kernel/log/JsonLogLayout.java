package io.storyportal.kernel.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.storyportal.kernel.RequestContext;

import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;

/**
 * One JSON object per log line, with the request id of the work that logged it (taken from the
 * Vert.x context, see {@link RequestContext}) and the node id.
 */
public final class JsonLogLayout extends LayoutBase<ILoggingEvent> {

  private static final JsonFactory JSON = new JsonFactory();
  private static volatile String nodeId = "-";

  public static void nodeId(String id) {
    nodeId = id;
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("ts", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("logger", event.getLoggerName());
      g.writeStringField("thread", event.getThreadName());
      g.writeStringField("node", nodeId);
      String rid = RequestContext.current();
      if (rid != null) {
        g.writeStringField("request_id", rid);
      }
      g.writeStringField("msg", event.getFormattedMessage());
      // SLF4J key-value pairs (logger.atInfo().addKeyValue(k, v)) become fields of the line
      if (event.getKeyValuePairs() != null) {
        for (org.slf4j.event.KeyValuePair kv : event.getKeyValuePairs()) {
          Object v = kv.value;
          if (v == null) {
            g.writeNullField(kv.key);
          } else if (v instanceof Long || v instanceof Integer) {
            g.writeNumberField(kv.key, ((Number) v).longValue());
          } else if (v instanceof Number n) {
            g.writeNumberField(kv.key, n.doubleValue());
          } else if (v instanceof Boolean b) {
            g.writeBooleanField(kv.key, b);
          } else {
            g.writeStringField(kv.key, String.valueOf(v));
          }
        }
      }
      IThrowableProxy t = event.getThrowableProxy();
      if (t != null) {
        g.writeStringField("error", ThrowableProxyUtil.asString(t));
      }
      g.writeEndObject();
    } catch (IOException e) {
      return "{\"level\":\"ERROR\",\"msg\":\"log layout failed\"}\n";
    }
    return out.append('\n').toString();
  }
}
