-- Retention (observability.retention): the sweep that clears a model call's kept prompt and answer
-- once older than llmPayloadsDays finds the rows that still hold one by time, without reading the
-- calls that never had any (payload capture is off by default). Deleting old calls uses
-- llm_requests_created_at_idx.
CREATE INDEX llm_requests_payloads_idx ON llm_requests (created_at) WHERE request IS NOT NULL OR response IS NOT NULL;
