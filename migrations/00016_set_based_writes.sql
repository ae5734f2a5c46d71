-- Set-based counter upkeep: every trigger that keeps counters runs ONE statement per changed
-- statement (a data-modifying CTE touching each counter table once), and never scans a table
-- to find the rows it changes.
--   * bags inserted or deleted: the parents' child_count, the bill totals of billed parents,
--     the bag counters. The bills were found by joining the transition table to bill_bags; the
--     planner, which knows no statistics of a transition table, hashed all of bill_bags for it
--     (a sequential scan of bill_bags on every child batch: 12,479 rows at 1M bags, 200,000 at
--     5.6M). The parents' own `billed` mark (00009, kept under the parent's row lock) now
--     decides which parents have a bill at all, and each one's bill is one index probe.
--   * scans inserted: the scan counter and the quarter-hour bucket in one statement.
--   * bill_bags inserted or deleted: one trigger (of two) updates the bills' counters, the
--     parents' billed mark and the billed-parent counter.
-- The counters stay exact in the same transaction, under the same row locks (parents before
-- bills): the constraints of 00001 (bags_child_count_range, bills_parent_count_range) and the
-- freeze of 00010 check the rows these statements write, as before.

-- +goose Up
-- Bags inserted or deleted (one function, by sign): the parents' child_count and the bag
-- counters in one statement; the bills of the parents that are billed in a second one, run only
-- when there are such parents. That second statement takes a new snapshot: a bill link that
-- committed while the first one waited for a parent's row lock is seen (the parent's mark
-- came from that lock's latest row version). A deleted parent's cascade deletes its children
-- in a later statement; by then the parent row is gone and matches nothing (a parent on a bill
-- cannot be deleted: RESTRICT).
-- +goose StatementBegin
CREATE FUNCTION tt_bags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
    billed_parents bigint[];
BEGIN
    WITH parents AS (
        UPDATE bags p SET child_count = p.child_count + sign * n.cnt, updated_at = now()
        FROM (SELECT parent_id, count(*) AS cnt FROM changed WHERE parent_id IS NOT NULL GROUP BY parent_id) n
        WHERE p.id = n.parent_id
        RETURNING p.id, p.billed
    ), counted AS (
        INSERT INTO stat_counters AS s (area_id, shard, parent_bags, child_bags)
        SELECT coalesce(area_id, 0), tt_shard(),
               sign * count(*) FILTER (WHERE type = 'PARENT'), sign * count(*) FILTER (WHERE type = 'CHILD')
        FROM changed GROUP BY 1 ORDER BY 1
        ON CONFLICT (area_id, shard) DO UPDATE
            SET parent_bags = s.parent_bags + excluded.parent_bags,
                child_bags = s.child_bags + excluded.child_bags
    )
    SELECT array_agg(id) FILTER (WHERE billed) INTO billed_parents FROM parents;

    IF billed_parents IS NOT NULL THEN
        UPDATE bills b SET child_bag_count = b.child_bag_count + sign * n.cnt, updated_at = now()
        FROM (SELECT bb.bill_id, sum(c.cnt) AS cnt
              FROM bill_bags bb
              JOIN (SELECT parent_id, count(*) AS cnt FROM changed GROUP BY parent_id) c ON c.parent_id = bb.bag_id
              WHERE bb.bag_id = ANY (billed_parents)
              GROUP BY bb.bill_id) n
        WHERE b.id = n.bill_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER bags_inserted ON bags;
DROP TRIGGER bags_deleted ON bags;
DROP FUNCTION tt_bags_inserted, tt_bags_deleted;
CREATE TRIGGER bags_inserted AFTER INSERT ON bags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bags_changed();
CREATE TRIGGER bags_deleted AFTER DELETE ON bags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bags_changed();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_scans_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH totals AS (
        INSERT INTO stat_counters AS s (area_id, shard, scans)
        SELECT coalesce(area_id, 0), tt_shard(), count(*) FROM changed GROUP BY 1 ORDER BY 1
        ON CONFLICT (area_id, shard) DO UPDATE SET scans = s.scans + excluded.scans
    )
    INSERT INTO scan_buckets AS s (bucket, area_id, shard, scans)
    SELECT date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00'), coalesce(area_id, 0),
           tt_shard(), count(*)
    FROM changed GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (bucket, area_id, shard) DO UPDATE SET scans = s.scans + excluded.scans;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- Parents linked to or unlinked from bills: the bills' counters, the parents' billed mark and
-- the billed-parent counter, in one statement (two triggers of 00001 and 00009 before). The
-- parents are read by primary key: their rows are locked by the linking transaction already.
-- +goose StatementBegin
CREATE FUNCTION tt_bill_bags_linked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    WITH parents AS (
        UPDATE bags p SET billed = (TG_OP = 'INSERT')
        FROM changed c
        WHERE p.id = c.bag_id
        RETURNING p.id, p.area_id, p.child_count, c.bill_id
    ), bills AS (
        UPDATE bills b SET parent_bag_count = b.parent_bag_count + sign * n.parents,
                           child_bag_count = b.child_bag_count + sign * n.children,
                           updated_at = now()
        FROM (SELECT bill_id, count(*) AS parents, sum(child_count) AS children FROM parents GROUP BY bill_id) n
        WHERE b.id = n.bill_id
    )
    INSERT INTO stat_counters AS s (area_id, shard, billed_parents)
    SELECT coalesce(area_id, 0), tt_shard(), sign * count(*)
    FROM parents GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE SET billed_parents = s.billed_parents + excluded.billed_parents;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER bill_bags_inserted ON bill_bags;
DROP TRIGGER bill_bags_deleted ON bill_bags;
DROP TRIGGER bill_bags_mark_inserted ON bill_bags;
DROP TRIGGER bill_bags_mark_deleted ON bill_bags;
DROP FUNCTION tt_bill_bags_changed, tt_bill_bags_mark;
CREATE TRIGGER bill_bags_inserted AFTER INSERT ON bill_bags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bill_bags_linked();
CREATE TRIGGER bill_bags_deleted AFTER DELETE ON bill_bags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bill_bags_linked();

-- +goose Down
-- the functions and triggers of 00001 and 00009 as they were
-- +goose StatementBegin
CREATE FUNCTION tt_bags_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bags p SET child_count = p.child_count + n.cnt, updated_at = now()
    FROM (SELECT parent_id, count(*) AS cnt FROM changed WHERE parent_id IS NOT NULL
          GROUP BY parent_id) n
    WHERE p.id = n.parent_id;

    UPDATE bills b SET child_bag_count = b.child_bag_count + n.cnt, updated_at = now()
    FROM (SELECT bb.bill_id, count(*) AS cnt FROM changed c JOIN bill_bags bb ON bb.bag_id = c.parent_id
          GROUP BY bb.bill_id) n
    WHERE b.id = n.bill_id;

    INSERT INTO stat_counters AS s (area_id, shard, parent_bags, child_bags)
    SELECT coalesce(area_id, 0), tt_shard(),
           count(*) FILTER (WHERE type = 'PARENT'), count(*) FILTER (WHERE type = 'CHILD')
    FROM changed GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE
        SET parent_bags = s.parent_bags + excluded.parent_bags,
            child_bags = s.child_bags + excluded.child_bags;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tt_bags_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bags p SET child_count = p.child_count - n.cnt, updated_at = now()
    FROM (SELECT parent_id, count(*) AS cnt FROM changed WHERE parent_id IS NOT NULL
          GROUP BY parent_id) n
    WHERE p.id = n.parent_id;

    UPDATE bills b SET child_bag_count = b.child_bag_count - n.cnt, updated_at = now()
    FROM (SELECT bb.bill_id, count(*) AS cnt FROM changed c JOIN bill_bags bb ON bb.bag_id = c.parent_id
          GROUP BY bb.bill_id) n
    WHERE b.id = n.bill_id;

    INSERT INTO stat_counters AS s (area_id, shard, parent_bags, child_bags)
    SELECT coalesce(area_id, 0), tt_shard(),
           -count(*) FILTER (WHERE type = 'PARENT'), -count(*) FILTER (WHERE type = 'CHILD')
    FROM changed GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE
        SET parent_bags = s.parent_bags + excluded.parent_bags,
            child_bags = s.child_bags + excluded.child_bags;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tt_bill_bags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    UPDATE bills b SET parent_bag_count = b.parent_bag_count + sign * n.parents,
                       child_bag_count = b.child_bag_count + sign * n.children,
                       updated_at = now()
    FROM (SELECT c.bill_id, count(*) AS parents, sum(p.child_count) AS children
          FROM changed c JOIN bags p ON p.id = c.bag_id GROUP BY c.bill_id) n
    WHERE b.id = n.bill_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tt_bill_bags_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    linked boolean := TG_OP = 'INSERT';
BEGIN
    UPDATE bags b SET billed = linked FROM changed c WHERE b.id = c.bag_id;
    INSERT INTO stat_counters AS s (area_id, shard, billed_parents)
    SELECT coalesce(b.area_id, 0), tt_shard(), CASE WHEN linked THEN count(*) ELSE -count(*) END
    FROM changed c JOIN bags b ON b.id = c.bag_id GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE SET billed_parents = s.billed_parents + excluded.billed_parents;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_scans_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stat_counters AS s (area_id, shard, scans)
    SELECT coalesce(area_id, 0), tt_shard(), count(*) FROM changed GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE SET scans = s.scans + excluded.scans;

    INSERT INTO scan_buckets AS s (bucket, area_id, shard, scans)
    SELECT date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00'), coalesce(area_id, 0),
           tt_shard(), count(*)
    FROM changed GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (bucket, area_id, shard) DO UPDATE SET scans = s.scans + excluded.scans;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER bill_bags_deleted ON bill_bags;
DROP TRIGGER bill_bags_inserted ON bill_bags;
DROP TRIGGER bags_deleted ON bags;
DROP TRIGGER bags_inserted ON bags;
DROP FUNCTION tt_bill_bags_linked, tt_bags_changed;
CREATE TRIGGER bags_inserted AFTER INSERT ON bags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bags_inserted();
CREATE TRIGGER bags_deleted AFTER DELETE ON bags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bags_deleted();
CREATE TRIGGER bill_bags_inserted AFTER INSERT ON bill_bags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bill_bags_changed();
CREATE TRIGGER bill_bags_deleted AFTER DELETE ON bill_bags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bill_bags_changed();
CREATE TRIGGER bill_bags_mark_inserted AFTER INSERT ON bill_bags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bill_bags_mark();
CREATE TRIGGER bill_bags_mark_deleted AFTER DELETE ON bill_bags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tt_bill_bags_mark();
