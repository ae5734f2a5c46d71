-- Sessions are cached now (auth.TokenCache): an instance verifies a bearer token from memory
-- and hands the cached user to the request, so every change to a user row must evict it, not
-- only the changes to rights that 00011 listed. A login (last_login_at, failed_logins) or a
-- lockout (locked_until) changes what `me` answers and what changePassword's lockout check
-- reads; without a notification a cached session would go on answering the old values after
-- the write was acknowledged. Logins and failed logins are rare next to reads, and their
-- notification is one per user and transaction.

-- +goose Up
DROP TRIGGER users_sessions_update ON users;
CREATE TRIGGER users_sessions_update AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION tt_notify_sessions();

-- +goose Down
DROP TRIGGER users_sessions_update ON users;
CREATE TRIGGER users_sessions_update AFTER UPDATE ON users FOR EACH ROW
    WHEN ((OLD.role, OLD.area_id, OLD.active, OLD.password_hash, OLD.email, OLD.username)
          IS DISTINCT FROM (NEW.role, NEW.area_id, NEW.active, NEW.password_hash, NEW.email, NEW.username))
    EXECUTE FUNCTION tt_notify_sessions();
