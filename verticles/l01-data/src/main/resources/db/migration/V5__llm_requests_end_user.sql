-- The end user a call named (OpenAI's user, Anthropic's metadata.user_id): an application's own
-- user behind its API key, for spend per end user (GET /llm-requests/usage?group_by=end_user).
ALTER TABLE llm_requests ADD COLUMN end_user text;
CREATE INDEX llm_requests_end_user_idx ON llm_requests (end_user, created_at) WHERE end_user IS NOT NULL;
