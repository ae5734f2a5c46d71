-- A login deletes the user's expired and revoked tokens, so the table holds live sessions
-- only. That delete looks tokens up by user whether revoked or not: the index covers all rows.

-- +goose Up
DROP INDEX auth_tokens_user;
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

-- +goose Down
DROP INDEX auth_tokens_user;
CREATE INDEX auth_tokens_user ON auth_tokens (user_id) WHERE revoked_at IS NULL;
