-- Session changes: every committed change to what a user's sessions may do sends a NOTIFY on
-- channel tracetrack_sessions whose payload is the user's id, so every instance can re-read
-- that user's open websockets (and any cache of sessions) within a second. Triggers rather
-- than the store's transactions send it, so no code path (nor a manual UPDATE) can change a
-- user's rights silently. These are rare events: scans, bags and bills never notify here.
--   users:       role, area, active flag, password, email or username changed; user deleted
--   auth_tokens: revoked, expiry moved, or deleted (logout, password change, deactivation,
--                login's clean-up of dead tokens, user deleted)
-- PostgreSQL folds identical notifications of one transaction, so revoking all of a user's
-- tokens sends one.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tt_notify_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('tracetrack_sessions', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    ELSE
        PERFORM pg_notify('tracetrack_sessions', (CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END)::text);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER users_sessions_update AFTER UPDATE ON users FOR EACH ROW
    WHEN ((OLD.role, OLD.area_id, OLD.active, OLD.password_hash, OLD.email, OLD.username)
          IS DISTINCT FROM (NEW.role, NEW.area_id, NEW.active, NEW.password_hash, NEW.email, NEW.username))
    EXECUTE FUNCTION tt_notify_sessions();
CREATE TRIGGER users_sessions_delete AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION tt_notify_sessions();
CREATE TRIGGER auth_tokens_sessions_update AFTER UPDATE ON auth_tokens FOR EACH ROW
    WHEN ((OLD.revoked_at, OLD.expires_at) IS DISTINCT FROM (NEW.revoked_at, NEW.expires_at))
    EXECUTE FUNCTION tt_notify_sessions();
CREATE TRIGGER auth_tokens_sessions_delete AFTER DELETE ON auth_tokens FOR EACH ROW
    EXECUTE FUNCTION tt_notify_sessions();

-- +goose Down
DROP TRIGGER auth_tokens_sessions_delete ON auth_tokens;
DROP TRIGGER auth_tokens_sessions_update ON auth_tokens;
DROP TRIGGER users_sessions_delete ON users;
DROP TRIGGER users_sessions_update ON users;
DROP FUNCTION tt_notify_sessions;
