package io.storyportal.l01.observe;

import io.vertx.core.json.JsonObject;

/** JSON schemas of the observability API (seed 004). */
public final class RunSchemas {

  private RunSchemas() {
  }

  static final String UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
  static final String TIME = "^\\\\d{4}-\\\\d{2}-\\\\d{2}T\\\\d{2}:\\\\d{2}(:\\\\d{2}(\\\\.\\\\d{1,9})?)?(Z|[+-]\\\\d{2}:\\\\d{2})$";

  /**
   * One run with its ordered steps and its failures. Metadata objects are free-form but
   * privacy-checked. Times are parsed (and refused with the field named) by {@link RunRules}: a
   * pattern here would be compiled by the validator for every step of every run, the hottest path
   * of ingest.
   */
  public static final JsonObject RUN = new JsonObject(("""
    {"type":"object","additionalProperties":false,
     "required":["run_id","agent_id","agent_version","status","started_at"],
     "properties":{
       "run_id":{"type":"string","pattern":"%UUID%"},
       "agent_id":{"type":"string","minLength":1,"maxLength":200},
       "agent_version":{"type":"string","minLength":1,"maxLength":100},
       "environment":{"type":"string","minLength":1,"maxLength":50},
       "status":{"enum":["success","failure","partial","running"]},
       "started_at":{"type":"string","maxLength":40},
       "ended_at":{"type":["string","null"],"maxLength":40},
       "task_id":{"type":["string","null"],"pattern":"%UUID%"},
       "metadata":{"type":"object"},
       "steps":{"type":"array","maxItems":1000,"items":{
         "type":"object","additionalProperties":false,
         "required":["seq","step_type","name","started_at","ended_at"],
         "properties":{
           "seq":{"type":"integer","minimum":0},
           "step_type":{"enum":["plan","retrieve","tool","llm","respond","evaluate","other"]},
           "name":{"type":"string","minLength":1,"maxLength":200},
           "status":{"enum":["success","failure","skipped"]},
           "started_at":{"type":"string","maxLength":40},
           "ended_at":{"type":"string","maxLength":40},
           "latency_ms":{"type":"number","minimum":0},
           "metadata":{"type":"object"}}}},
       "failures":{"type":"array","maxItems":1000,"items":{
         "type":"object","additionalProperties":false,
         "required":["failure_type","failure_code"],
         "properties":{
           "step_seq":{"type":["integer","null"],"minimum":0},
           "failure_type":{"enum":["tool","model","retrieval","orchestration","timeout","validation","policy","other"]},
           "failure_code":{"type":"string","minLength":1,"maxLength":100},
           "message":{"type":["string","null"],"maxLength":2000}}}}}}
    """).replace("%UUID%", UUID));

  /** The batch form: many runs, each checked on its own so that one bad item is answered alone. */
  public static JsonObject batch(int maxRuns) {
    return new JsonObject().put("type", "object").put("additionalProperties", false)
      .put("required", new io.vertx.core.json.JsonArray().add("runs"))
      .put("properties", new JsonObject().put("runs", new JsonObject().put("type", "array").put("minItems", 1).put("maxItems", maxRuns)));
  }

  public static final JsonObject RUN_ID = new JsonObject(("""
    {"type":"object","required":["id"],"properties":{"id":{"type":"string","pattern":"%UUID%"}}}
    """).replace("%UUID%", UUID));

  public static final JsonObject LIST = new JsonObject(("""
    {"type":"object","additionalProperties":false,"properties":{
      "agent_id":{"type":"string"},"agent_version":{"type":"string"},
      "status":{"enum":["success","failure","partial","running"]},"environment":{"type":"string"},
      "started_after":{"type":"string","pattern":"%TIME%"},"started_before":{"type":"string","pattern":"%TIME%"},
      "limit":{"type":"integer","minimum":1,"maximum":200},"cursor":{"type":"string","maxLength":512}}}
    """).replace("%TIME%", TIME));

  public static final JsonObject STATS = new JsonObject(("""
    {"type":"object","additionalProperties":false,"properties":{
      "agent_id":{"type":"string"},"agent_version":{"type":"string"},"environment":{"type":"string"},
      "started_after":{"type":"string","pattern":"%TIME%"},"started_before":{"type":"string","pattern":"%TIME%"},
      "bucket":{"enum":["minute","hour","day"]}}}
    """).replace("%TIME%", TIME));
}
