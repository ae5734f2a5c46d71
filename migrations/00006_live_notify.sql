-- Live events: every committed statement that logs scans or changes bills sends a NOTIFY on
-- channel tt_live in the same transaction, so PostgreSQL delivers it only on commit and never
-- for a rolled-back change. Payloads carry ids, never rows (the listener reads the rows), and
-- stay far below the 8000-byte limit whatever the statement's size:
--   s:<min id>:<max id>           scans inserted by one statement (the listener reads the range)
--   b:<id>,<id>,...               bills inserted, updated or deleted, at most 300 ids a message

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tt_notify_scans() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    hi bigint;
BEGIN
    SELECT min(id), max(id) INTO lo, hi FROM changed;
    IF lo IS NOT NULL THEN
        PERFORM pg_notify('tt_live', 's:' || lo || ':' || hi);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER scans_notify AFTER INSERT ON scans
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_notify_scans();

-- +goose StatementBegin
CREATE FUNCTION tt_notify_bills() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text;
BEGIN
    FOR ids IN
        SELECT string_agg(id::text, ',' ORDER BY id)
        FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / 300 AS chunk FROM changed) c
        GROUP BY chunk
        ORDER BY chunk
    LOOP
        PERFORM pg_notify('tt_live', 'b:' || ids);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER bills_notify_insert AFTER INSERT ON bills
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_notify_bills();
CREATE TRIGGER bills_notify_update AFTER UPDATE ON bills
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_notify_bills();
CREATE TRIGGER bills_notify_delete AFTER DELETE ON bills
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_notify_bills();

-- +goose Down
DROP TRIGGER bills_notify_delete ON bills;
DROP TRIGGER bills_notify_update ON bills;
DROP TRIGGER bills_notify_insert ON bills;
DROP TRIGGER scans_notify ON scans;
DROP FUNCTION tt_notify_bills, tt_notify_scans;
