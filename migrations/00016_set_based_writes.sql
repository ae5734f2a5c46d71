-- Set-based counter upkeep: each trigger that keeps counters updates each counter table once
-- per changed statement, in one set-based statement, and never scans a table to find the rows
-- it changes. Every trigger takes its row locks in one order, the store's: parent bags, then
-- bills, then stat_counters (then scan_buckets), so concurrent writers never deadlock on them.
--   * bags inserted or deleted: the parents' child_count, the bill totals of billed parents,
--     the bag counters. The bills were found by joining the transition table to bill_bags; the
--     planner, which knows no statistics of a transition table, hashed all of bill_bags for it
--     (a sequential scan of bill_bags on every child batch: 12,479 rows at 1M bags, 200,000 at
--     5.6M). The parents' own `billed` mark (00009, kept under the parent's row lock) now
--     decides which parents have a bill at all, and each one's bill is one index probe; a batch
--     into a parent on no bill runs two statements (parents, counters) instead of three.
--   * bill_bags inserted or deleted: one trigger (of two) updates the parents' billed mark, the
--     bills' counters and the billed-parent counter, in that order.
-- The counters stay exact in the same transaction: the constraints of 00001
-- (bags_child_count_range, bills_parent_count_range) and the freeze of 00010 check the rows
-- these statements write, as before.

-- +goose Up
-- Bags inserted or deleted (one function, by sign). The bills of the parents that are billed
-- are updated in a statement of their own, run only when there are such parents: it takes a
-- new snapshot, so a bill link that committed while the parents' update waited for a row lock
-- is seen (the parent's mark came from that lock's latest row version). A deleted parent's
-- cascade deletes its children in a later statement; by then the parent row is gone and matches
-- nothing (a parent on a bill cannot be deleted: RESTRICT).
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

    INSERT INTO stat_counters AS s (area_id, shard, parent_bags, child_bags)
    SELECT coalesce(area_id, 0), tt_shard(),
           sign * count(*) FILTER (WHERE type = 'PARENT'), sign * count(*) FILTER (WHERE type = 'CHILD')
    FROM changed GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE
        SET parent_bags = s.parent_bags + excluded.parent_bags,
            child_bags = s.child_bags + excluded.child_bags;
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

-- Parents linked to or unlinked from bills: the parents' billed mark, the bills' counters and
-- the billed-parent counter (two triggers of 00001 and 00009 before, which updated the bills
-- before the parents). The parents' rows are locked by the linking transaction already.
-- +goose StatementBegin
CREATE FUNCTION tt_bill_bags_linked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    UPDATE bags p SET billed = (TG_OP = 'INSERT') FROM changed c WHERE p.id = c.bag_id;

    UPDATE bills b SET parent_bag_count = b.parent_bag_count + sign * n.parents,
                       child_bag_count = b.child_bag_count + sign * n.children,
                       updated_at = now()
    FROM (SELECT c.bill_id, count(*) AS parents, sum(p.child_count) AS children
          FROM changed c JOIN bags p ON p.id = c.bag_id GROUP BY c.bill_id) n
    WHERE b.id = n.bill_id;

    INSERT INTO stat_counters AS s (area_id, shard, billed_parents)
    SELECT coalesce(p.area_id, 0), tt_shard(), sign * count(*)
    FROM changed c JOIN bags p ON p.id = c.bag_id GROUP BY 1 ORDER BY 1
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
