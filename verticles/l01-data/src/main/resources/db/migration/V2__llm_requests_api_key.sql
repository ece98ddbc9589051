-- A model call's API key: deleting the key (or its user, whose keys cascade) keeps the call's
-- record and forgets the key, rather than failing on the foreign key. Calls per key are looked
-- up by key and time (GET /llm-requests?api_key_id=…).
ALTER TABLE llm_requests DROP CONSTRAINT llm_requests_api_key_id_fkey,
  ADD CONSTRAINT llm_requests_api_key_id_fkey FOREIGN KEY (api_key_id) REFERENCES api_keys(id) ON DELETE SET NULL;
CREATE INDEX llm_requests_api_key_idx ON llm_requests (api_key_id, created_at) WHERE api_key_id IS NOT NULL;
