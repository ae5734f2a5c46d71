-- Reports (issue 15): who completed a bill, and the indexes the reports read.
--   * bills.completed_by: the user who completed the bill, kept exactly while it is completed
--     (a reopened bill has neither completed_at nor completed_by). Bills completed before this
--     migration keep completed_by NULL: nobody recorded who did it.
--   * scans_user_at: userActivity counts one user's scans in a time range; scans_user
--     (user_id, id) would read every scan the user ever made.
--   * audit_log_action / audit_log_actor: auditLog pages newest first (by id) through one
--     action or one actor's entries.

-- +goose Up
ALTER TABLE bills ADD COLUMN completed_by bigint REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE bills ADD CONSTRAINT bills_completed_by_only_completed
    CHECK (completed_by IS NULL OR completed_at IS NOT NULL);

CREATE INDEX scans_user_at ON scans (user_id, at) INCLUDE (area_id, bag_qr);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id) WHERE actor_id IS NOT NULL;

-- +goose Down
DROP INDEX audit_log_actor;
DROP INDEX audit_log_action;
DROP INDEX scans_user_at;
ALTER TABLE bills DROP CONSTRAINT bills_completed_by_only_completed;
ALTER TABLE bills DROP COLUMN completed_by;
