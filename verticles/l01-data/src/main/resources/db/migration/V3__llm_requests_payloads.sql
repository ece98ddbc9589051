-- What a model call was asked and answered, when L04 is configured to keep it
-- (models.accounting.payloads; off by default): the request as the backend got it (texts cut to
-- a configured length, images counted, not kept) and the answer (text, reasoning, tool calls).
-- The call lists leave these out; GET /llm-requests/{id} returns them.
ALTER TABLE llm_requests ADD COLUMN request jsonb, ADD COLUMN response jsonb;
