-- Core schema of the platform (DESIGN §4; seed 001 §3.1/§3.2; seed 003 R-DATA-002; seed 004).
-- Every table has created_at/updated_at; entities edited through the API carry a version for
-- optimistic concurrency and deleted_at for soft delete (audit keeps the row).

CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{3,64}$'),
  email         text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
  display_name  text CHECK (display_name IS NULL OR length(display_name) <= 200),
  password_hash text NOT NULL,
  roles         text[] NOT NULL DEFAULT '{viewer}'
                CHECK (roles <@ ARRAY['admin','developer','operator','viewer']::text[] AND cardinality(roles) > 0),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active','disabled')),
  version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);
CREATE UNIQUE INDEX users_username_uq ON users (lower(username)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_email_uq ON users (lower(email)) WHERE deleted_at IS NULL AND email IS NOT NULL;
CREATE INDEX users_created_at_idx ON users (created_at, id);

CREATE TABLE api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  prefix       text NOT NULL,
  key_hash     text NOT NULL,
  scopes       text[] NOT NULL DEFAULT '{}',
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX api_keys_key_hash_uq ON api_keys (key_hash);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

CREATE TABLE sessions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  data        jsonb NOT NULL DEFAULT '{}',
  expires_at  timestamptz NOT NULL,
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_created_at_idx ON sessions (created_at, id);

CREATE TABLE agents (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (description IS NULL OR length(description) <= 4000),
  layer       text CHECK (layer IS NULL OR layer ~ '^l(0[1-9]|1[0-2])$'),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active','paused','retired')),
  model       text,
  config      jsonb NOT NULL DEFAULT '{}',
  owner_id    uuid REFERENCES users(id),
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX agents_created_at_idx ON agents (created_at, id);
CREATE INDEX agents_status_idx ON agents (status);
CREATE INDEX agents_layer_idx ON agents (layer);
CREATE INDEX agents_name_trgm_idx ON agents USING gin (name gin_trgm_ops);

CREATE TABLE goals (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_id    uuid REFERENCES agents(id),
  title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  description text,
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open','active','achieved','abandoned')),
  priority    integer NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
  owner_id    uuid REFERENCES users(id),
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX goals_agent_id_idx ON goals (agent_id);
CREATE INDEX goals_status_idx ON goals (status);
CREATE INDEX goals_created_at_idx ON goals (created_at, id);

CREATE TABLE plans (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  goal_id     uuid NOT NULL REFERENCES goals(id),
  status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','approved','executing','completed','failed','superseded')),
  steps       jsonb NOT NULL DEFAULT '[]',
  rationale   text,
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plans_goal_id_idx ON plans (goal_id);

CREATE TABLE tasks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_id    uuid REFERENCES agents(id),
  goal_id     uuid REFERENCES goals(id),
  plan_id     uuid REFERENCES plans(id),
  title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  input       jsonb NOT NULL DEFAULT '{}',
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','running','succeeded','failed','cancelled')),
  priority    integer NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
  result      jsonb,
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX tasks_agent_id_idx ON tasks (agent_id);
CREATE INDEX tasks_goal_id_idx ON tasks (goal_id);
CREATE INDEX tasks_status_idx ON tasks (status);
CREATE INDEX tasks_created_at_idx ON tasks (created_at, id);

-- Observability (seed 004): runs of agents inside or outside the platform, their ordered steps and
-- semantic failures. run ids come from the client (idempotent ingest).
CREATE TABLE runs (
  id             uuid PRIMARY KEY,
  agent_id       text NOT NULL CHECK (length(agent_id) BETWEEN 1 AND 200),
  agent_version  text NOT NULL CHECK (length(agent_version) BETWEEN 1 AND 100),
  environment    text NOT NULL DEFAULT 'production' CHECK (length(environment) BETWEEN 1 AND 50),
  status         text NOT NULL CHECK (status IN ('success','failure','partial','running')),
  started_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  duration_ms    double precision GENERATED ALWAYS AS (EXTRACT(EPOCH FROM (ended_at - started_at)) * 1000) STORED,
  task_id        uuid REFERENCES tasks(id),
  metadata       jsonb NOT NULL DEFAULT '{}',
  request_hash   text NOT NULL,
  step_count     integer NOT NULL DEFAULT 0 CHECK (step_count >= 0),
  failure_count  integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX runs_agent_id_idx ON runs (agent_id);
CREATE INDEX runs_status_idx ON runs (status);
CREATE INDEX runs_environment_idx ON runs (environment);
CREATE INDEX runs_started_at_idx ON runs (started_at DESC, id DESC);

CREATE TABLE run_steps (
  run_id      uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq         integer NOT NULL CHECK (seq >= 0),
  step_type   text NOT NULL CHECK (step_type IN ('plan','retrieve','tool','llm','respond','evaluate','other')),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status      text NOT NULL DEFAULT 'success' CHECK (status IN ('success','failure','skipped')),
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz NOT NULL,
  latency_ms  double precision NOT NULL CHECK (latency_ms >= 0),
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, seq),
  CHECK (ended_at >= started_at)
);
CREATE INDEX run_steps_step_type_idx ON run_steps (step_type);
CREATE INDEX run_steps_started_at_idx ON run_steps (started_at);

CREATE TABLE run_failures (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id        uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step_seq      integer,
  failure_type  text NOT NULL CHECK (failure_type IN ('tool','model','retrieval','orchestration','timeout','validation','policy','other')),
  failure_code  text NOT NULL CHECK (length(failure_code) BETWEEN 1 AND 100),
  message       text CHECK (message IS NULL OR length(message) <= 2000),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (run_id, step_seq) REFERENCES run_steps (run_id, seq) ON DELETE CASCADE
);
CREATE INDEX run_failures_run_id_idx ON run_failures (run_id);
CREATE INDEX run_failures_failure_type_idx ON run_failures (failure_type);

CREATE TABLE artifacts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id       uuid REFERENCES tasks(id),
  run_id        uuid REFERENCES runs(id),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
  content_type  text NOT NULL DEFAULT 'application/octet-stream',
  uri           text,
  size_bytes    bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
  checksum      text,
  metadata      jsonb NOT NULL DEFAULT '{}',
  version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz
);
CREATE INDEX artifacts_task_id_idx ON artifacts (task_id);
CREATE INDEX artifacts_created_at_idx ON artifacts (created_at, id);

CREATE TABLE tool_definitions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_.-]{1,100}$'),
  description   text,
  input_schema  jsonb NOT NULL DEFAULT '{}',
  output_schema jsonb,
  enabled       boolean NOT NULL DEFAULT true,
  version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tool_executions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tool_id     uuid REFERENCES tool_definitions(id),
  tool_name   text NOT NULL,
  run_id      uuid REFERENCES runs(id),
  task_id     uuid REFERENCES tasks(id),
  status      text NOT NULL CHECK (status IN ('running','succeeded','failed','timeout')),
  input       jsonb NOT NULL DEFAULT '{}',
  output      jsonb,
  error       text,
  latency_ms  double precision CHECK (latency_ms IS NULL OR latency_ms >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_executions_created_at_idx ON tool_executions (created_at);
CREATE INDEX tool_executions_tool_name_idx ON tool_executions (tool_name);

CREATE TABLE llm_requests (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id         text,
  caller             text NOT NULL,
  api_key_id         uuid REFERENCES api_keys(id),
  model              text NOT NULL,
  backend            text,
  prompt_tokens      integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
  completion_tokens  integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
  ttft_ms            double precision CHECK (ttft_ms IS NULL OR ttft_ms >= 0),
  latency_ms         double precision CHECK (latency_ms IS NULL OR latency_ms >= 0),
  cost_usd           numeric(14,8) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  status             text NOT NULL CHECK (status IN ('success','error','cancelled','rejected')),
  error              text,
  cached             boolean NOT NULL DEFAULT false,
  streamed           boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_requests_created_at_idx ON llm_requests (created_at);
CREATE INDEX llm_requests_caller_idx ON llm_requests (caller, created_at);
CREATE INDEX llm_requests_model_idx ON llm_requests (model);

CREATE TABLE evaluations (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id      uuid REFERENCES runs(id),
  task_id     uuid REFERENCES tasks(id),
  evaluator   text NOT NULL,
  score       double precision CHECK (score IS NULL OR (score >= 0 AND score <= 1)),
  verdict     text CHECK (verdict IS NULL OR verdict IN ('pass','fail','needs_review')),
  details     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluations_run_id_idx ON evaluations (run_id);

CREATE TABLE memories (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  agent_id    uuid REFERENCES agents(id),
  kind        text NOT NULL CHECK (kind IN ('insight','fact','episode','preference')),
  content     text NOT NULL,
  embedding   real[],
  importance  double precision NOT NULL DEFAULT 0.5 CHECK (importance >= 0 AND importance <= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memories_agent_id_idx ON memories (agent_id);

CREATE TABLE services (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  layer        text NOT NULL,
  address      text NOT NULL,
  method       text NOT NULL,
  path         text NOT NULL,
  description  text,
  input_schema jsonb,
  roles        text[] NOT NULL DEFAULT '{}',
  streaming    boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (address)
);
CREATE INDEX services_name_idx ON services (name);
CREATE INDEX services_layer_idx ON services (layer);
CREATE INDEX services_name_trgm_idx ON services USING gin (name gin_trgm_ops);

CREATE TABLE workflows (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  definition  jsonb NOT NULL,
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);

CREATE TABLE workflow_runs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workflow_id  uuid NOT NULL REFERENCES workflows(id),
  status       text NOT NULL CHECK (status IN ('pending','running','completed','failed','cancelled')),
  input        jsonb NOT NULL DEFAULT '{}',
  output       jsonb,
  started_at   timestamptz,
  ended_at     timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_runs_workflow_id_idx ON workflow_runs (workflow_id);

CREATE TABLE webhooks (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url          text NOT NULL CHECK (url ~ '^https?://'),
  events       text[] NOT NULL DEFAULT '{}',
  secret_hash  text,
  active       boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE integrations (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind        text NOT NULL,
  name        text NOT NULL,
  config      jsonb NOT NULL DEFAULT '{}',
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, name)
);

-- Event store: append-only; sequence_number is per aggregate, position is the global order that
-- replay and resuming subscribers read after. Appends serialise on an advisory lock so positions
-- become visible in order (a reader never skips a position that commits later).
CREATE TABLE events (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  position         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  aggregate_id     uuid NOT NULL,
  aggregate_type   text NOT NULL CHECK (aggregate_type ~ '^[A-Z][A-Za-z]{1,60}$'),
  event_type       text NOT NULL CHECK (event_type ~ '^[A-Z][A-Za-z]{1,100}$'),
  payload          jsonb NOT NULL,
  metadata         jsonb NOT NULL DEFAULT '{}',
  timestamp        timestamptz NOT NULL DEFAULT now(),
  sequence_number  integer NOT NULL CHECK (sequence_number >= 1),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (aggregate_id, sequence_number)
);
CREATE INDEX events_timestamp_idx ON events (timestamp);
CREATE INDEX events_type_idx ON events (aggregate_type, event_type);

-- Idempotency keys for creates (Idempotency-Key header): the first answer is kept and replayed.
CREATE TABLE idempotency_keys (
  scope        text NOT NULL,
  key_hash     text NOT NULL,
  request_hash text NOT NULL,
  status       integer NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key_hash)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['users','api_keys','sessions','agents','goals','plans','tasks','runs','run_steps',
    'run_failures','artifacts','tool_definitions','tool_executions','llm_requests','evaluations','memories',
    'services','workflows','workflow_runs','webhooks','integrations','idempotency_keys'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION touch_updated_at()', t || '_touch', t);
  END LOOP;
END $$;
