-- The live feed without NOTIFY. PostgreSQL serializes the commit of every transaction that
-- issued a NOTIFY (one database-wide lock held through the WAL flush), so the scan, bag and
-- bill transactions no longer notify. Instead each change carries the id of the transaction
-- that wrote it, and the feed reads committed changes by comparing snapshots (live/feed.go):
--   scans.write_xid        the transaction that logged the scan (set by the column default)
--   bills.change_xid       the transaction that last inserted or updated the bill (default on
--                          INSERT, trigger on UPDATE: no code path can change a bill unseen)
--   bill_deletions         the bills deleted and by which transaction (rare; the stats move)
--   live_ticks             a sequence of snapshots, one per moment the feed looked and found
--                          something new. Batch k is what is visible in tick k and not in tick
--                          k-1; every instance reads the same batches, so they deliver the same
--                          order and `after` resumes from any of them.
-- Rows written before this migration have no transaction id: they are older than every tick.

-- +goose Up
DROP TRIGGER bills_notify_delete ON bills;
DROP TRIGGER bills_notify_update ON bills;
DROP TRIGGER bills_notify_insert ON bills;
DROP TRIGGER scans_notify ON scans;
DROP FUNCTION tt_notify_bills, tt_notify_scans;

-- Added without a default first, then given one, so existing rows are not rewritten.
ALTER TABLE scans ADD COLUMN write_xid xid8;
ALTER TABLE scans ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX scans_write_xid ON scans (write_xid) WHERE write_xid IS NOT NULL;

ALTER TABLE bills ADD COLUMN change_xid xid8;
ALTER TABLE bills ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX bills_change_xid ON bills (change_xid) WHERE change_xid IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION tt_bill_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_xid := pg_current_xact_id();
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER bills_change_xid BEFORE UPDATE ON bills FOR EACH ROW EXECUTE FUNCTION tt_bill_changed();

CREATE TABLE bill_deletions (
    bill_id    bigint NOT NULL,
    write_xid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bill_deletions_write_xid ON bill_deletions (write_xid);

-- +goose StatementBegin
CREATE FUNCTION tt_bills_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO bill_deletions (bill_id) SELECT id FROM gone;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER bills_deletion_logged AFTER DELETE ON bills
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tt_bills_deleted();

-- scans and bills say whether the tick's batch holds scans, and bill changes or deletions:
-- readers skip the reads that would find nothing.
CREATE TABLE live_ticks (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    snap  pg_snapshot NOT NULL,
    scans boolean NOT NULL,
    bills boolean NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
-- Finds the first tick that sees a transaction (resuming `after` a scan): xmax grows with id.
CREATE INDEX live_ticks_xmax ON live_ticks (pg_snapshot_xmax(snap));

-- tt_live_tick records a tick when something new is visible and returns the latest tick. A
-- transaction-scoped advisory lock (two-key form, keyed on this table's oid) makes tickers
-- (every instance polls) take turns, and each takes its snapshot after the lock, so each tick
-- sees everything the one before saw (the batches never overlap) and ticks commit in id order
-- (a reader that sees tick k sees every tick before it). Only tickers take this lock; no write
-- transaction waits for it. It is not a table lock, which would collide with autovacuum of
-- this table (cancelled after a second's stall, every time), nor a row lock, which writes.
-- Something is new when a committed row has a transaction id at or above the latest tick's
-- xmax, or one that was in progress then. One INSERT ... SELECT checks that and takes the
-- snapshot, so the batch's flags are exact. The checks are max() and min() so that each is
-- one step down an index whatever the planner estimates (an EXISTS with a parameter was
-- planned as a sequential scan). A transaction held open stays in the in-progress list: one
-- probe, it never widens what is read. When nothing is new the INSERT inserts nothing and
-- the call writes nothing. Ticks and deletions older than an hour are dropped now and then
-- (a busy instance ticks up to 66 times a second): `after` resumes exactly within that.
-- +goose StatementBegin
CREATE FUNCTION tt_live_tick(OUT tick_id bigint, OUT tick_snap pg_snapshot, OUT tick_scans boolean,
                             OUT tick_bills boolean) LANGUAGE plpgsql AS $$
DECLARE
    seen pg_snapshot;
    fresh record;
BEGIN
    PERFORM pg_advisory_xact_lock('live_ticks'::regclass::oid::integer, 0);
    SELECT id, snap, scans, bills INTO tick_id, tick_snap, tick_scans, tick_bills
    FROM live_ticks ORDER BY id DESC LIMIT 1;
    IF tick_id IS NULL THEN
        INSERT INTO live_ticks (snap, scans, bills) VALUES (pg_current_snapshot(), true, true)
        RETURNING id, snap, scans, bills INTO tick_id, tick_snap, tick_scans, tick_bills;
        RETURN;
    END IF;
    seen := tick_snap;
    INSERT INTO live_ticks (snap, scans, bills)
    SELECT pg_current_snapshot(), c.scans, c.bills
    FROM (SELECT
            coalesce((SELECT max(write_xid) FROM scans), '0') >= pg_snapshot_xmax(seen)
            OR EXISTS (SELECT 1 FROM pg_snapshot_xip(seen) AS open_then (xid)
                       WHERE (SELECT min(write_xid) FROM scans WHERE write_xid >= open_then.xid) = open_then.xid)
              AS scans,
            coalesce((SELECT max(change_xid) FROM bills), '0') >= pg_snapshot_xmax(seen)
            OR coalesce((SELECT max(write_xid) FROM bill_deletions), '0') >= pg_snapshot_xmax(seen)
            OR EXISTS (SELECT 1 FROM pg_snapshot_xip(seen) AS open_then (xid)
                       WHERE (SELECT min(change_xid) FROM bills WHERE change_xid >= open_then.xid) = open_then.xid
                          OR (SELECT min(write_xid) FROM bill_deletions WHERE write_xid >= open_then.xid) = open_then.xid)
              AS bills) c
    WHERE c.scans OR c.bills
    RETURNING id, snap, scans, bills INTO fresh;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    tick_id := fresh.id;
    tick_snap := fresh.snap;
    tick_scans := fresh.scans;
    tick_bills := fresh.bills;
    IF tick_id % 1000 = 0 THEN
        DELETE FROM live_ticks WHERE at < now() - interval '1 hour' AND id < tick_id;
        DELETE FROM bill_deletions WHERE deleted_at < now() - interval '1 hour';
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tt_live_tick;
DROP TABLE live_ticks;
DROP TRIGGER bills_deletion_logged ON bills;
DROP FUNCTION tt_bills_deleted;
DROP TABLE bill_deletions;
DROP TRIGGER bills_change_xid ON bills;
DROP FUNCTION tt_bill_changed;
ALTER TABLE bills DROP COLUMN change_xid;
ALTER TABLE scans DROP COLUMN write_xid;

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
