package io.storyportal.kernel;

/**
 * Names of the headers the kernel reads and writes: on HTTP and on event-bus messages. Identity
 * headers are set only by trusted entry points (gateway, UI, a layer port after its token check).
 */
public final class Headers {

  private Headers() {
  }

  public static final String REQUEST_ID = "x-request-id";
  public static final String PRINCIPAL = "x-principal";
  public static final String ROLES = "x-roles";
  /** The id of the API key a request came with, set by the entry point that verified it. */
  public static final String API_KEY_ID = "x-api-key-id";
  /** The models that API key may call (comma-separated), when it is limited to some; set with {@link #API_KEY_ID}. */
  public static final String ALLOWED_MODELS = "x-allowed-models";
  /**
   * That API key's own budgets (a JSON array of {@code {period, tokens | requests | cost_usd}}), when
   * it has some; set with {@link #API_KEY_ID}.
   */
  public static final String KEY_BUDGETS = "x-key-budgets";

  /** What a verified caller carries besides its principal and roles, from the entry point to the operation. */
  public static final java.util.List<String> IDENTITY_EXTRAS = java.util.List.of(API_KEY_ID, ALLOWED_MODELS, KEY_BUDGETS);

  /** Reply header carrying the HTTP status a handler chose (see {@code op.Reply}). */
  public static final String STATUS = "x-status";

  /** HTTP request headers an operation may read; the HTTP binding copies them onto the bus message. */
  public static final java.util.List<String> FORWARDED = java.util.List.of("if-match", "if-none-match", "idempotency-key");

  /** Streaming call: the address the caller listens on for frames. */
  public static final String STREAM_TO = "x-stream-to";
  /** Streaming call: how many unacknowledged frames the caller accepts (its initial credit). */
  public static final String STREAM_WINDOW = "x-stream-window";
  /** Frame kind: data, end, error, ping. */
  public static final String FRAME = "x-frame";
  /** Frame sequence number, from 0, per stream. */
  public static final String SEQ = "x-seq";

  /** Headers the kernel itself uses on the bus; never copied onto HTTP responses. */
  public static final java.util.Set<String> INTERNAL = java.util.Set.of(REQUEST_ID, PRINCIPAL, ROLES, STATUS, STREAM_TO,
    STREAM_WINDOW, FRAME, SEQ);
}
