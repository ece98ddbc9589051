-- An API key's own budgets (POST /auth/keys {"budgets": [{"period": "day", "tokens": 100000}, …]}):
-- each limits the key's tokens, requests or spend per minute, hour, day or month, enforced by L04
-- beside the configured models.budgets. NULL: none of its own.
ALTER TABLE api_keys ADD COLUMN budgets jsonb;
