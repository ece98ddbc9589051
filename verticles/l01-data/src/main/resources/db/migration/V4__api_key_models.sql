-- The models an API key may call through L04 (names or aliases as callers send them); NULL: any.
ALTER TABLE api_keys ADD COLUMN models text[];
