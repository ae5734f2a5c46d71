-- Cheaper child batches (issue 13's write goal).
--   * tt_bag_status(type, child_count, capacity): the status rule of the generated column
--     bags.status, as a function a statement can call on values that are not a stored row yet.
--     A child batch returns its parent as the bags trigger leaves it, after the statement (the
--     trigger's update of the parent is not visible to the statement): with it, the batch no
--     longer reads the parent again after its statement. The function's body is the column's
--     expression copied from the catalog here, so the rule is written once (00001's column);
--     db/children_test.go fails when the two differ (a later change of the column must
--     recreate the function).
--   * tt_bags_changed (00023's function) checks the new bags' areas and creators in the
--     statement that updates their parents' counts, instead of a statement of its own calling
--     another plpgsql function (tt_check_bag_references, kept for the row trigger of updates):
--     and the bag counters in that statement too when no parent is on a bill (most batches,
--     every parent scan): one statement in the trigger where there were three and a nested
--     function call. The order of the locks stays the store's: the areas and users, then the
--     parents (their update waits on the references' CTE), then bills, then stat_counters (the
--     counters' CTE reads the parents' update to its end first; with a parent on a bill the
--     counters wait for a statement after the bills', which takes a new snapshot as before).
--     The errors are the same.
--   * tt_bill_bags_linked (00016's function): the parents' billed mark and the bills' counters
--     in one statement (the bills' child counts from the parents' update, whose rows the
--     linking transaction holds locked), then the billed-parent counters in a statement of
--     their own as before, after the bills' row triggers have counted the bills' statuses:
--     two statements where there were three.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('CREATE FUNCTION tt_bag_status(type text, child_count integer, capacity integer) RETURNS text
                    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                   'SELECT ' || (SELECT pg_get_expr(d.adbin, d.adrelid)
                                 FROM pg_attrdef d
                                 JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                                 WHERE d.adrelid = 'bags'::regclass AND a.attname = 'status'));
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_bags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
    billed_parents bigint[];
    parents_named bigint;
    parents_found bigint;
    missing_area integer;
    missing_user bigint;
    missing_parent bigint;
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM changed WHERE type = 'PARENT') THEN
        DELETE FROM bags WHERE parent_id IN (SELECT id FROM changed WHERE type = 'PARENT');
    END IF;

    -- refs: an area and a user the new rows name that do not exist (NULL: none), every one that
    -- exists locked FOR KEY SHARE, as tt_check_bag_references does; the parents' update reads
    -- it first, and updates nothing when a reference is missing (its error is raised below)
    WITH refs AS (
        SELECT (SELECT a.id FROM (SELECT DISTINCT area_id FROM changed) a(id)
                WHERE TG_OP = 'INSERT' AND a.id IS NOT NULL
                  AND a.id NOT IN (SELECT id FROM areas WHERE id = ANY (ARRAY(SELECT area_id FROM changed)) FOR KEY SHARE)
                LIMIT 1) AS area,
               (SELECT u.id FROM (SELECT DISTINCT created_by FROM changed) u(id)
                WHERE TG_OP = 'INSERT' AND u.id IS NOT NULL
                  AND u.id NOT IN (SELECT id FROM users WHERE id = ANY (ARRAY(SELECT created_by FROM changed)) FOR KEY SHARE)
                LIMIT 1) AS creator
    ), named AS (
        SELECT parent_id, count(*) AS cnt FROM changed WHERE parent_id IS NOT NULL GROUP BY parent_id
    ), parents AS (
        UPDATE bags p SET child_count = p.child_count + sign * n.cnt, updated_at = now()
        FROM named n
        WHERE p.id = n.parent_id AND (SELECT area IS NULL AND creator IS NULL FROM refs)
        RETURNING p.id, p.billed
    ), counted AS (
        -- the bag counters, here when no parent is on a bill; otherwise after the bills below
        -- (the lock order). The condition reads the parents' update to its end first.
        INSERT INTO stat_counters AS s (area_id, shard, parent_bags, child_bags)
        SELECT coalesce(area_id, 0), tt_shard(),
               sign * count(*) FILTER (WHERE type = 'PARENT'), sign * count(*) FILTER (WHERE type = 'CHILD')
        FROM changed
        WHERE NOT EXISTS (SELECT 1 FROM parents WHERE billed)
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (area_id, shard) DO UPDATE
            SET parent_bags = s.parent_bags + excluded.parent_bags,
                child_bags = s.child_bags + excluded.child_bags
    )
    SELECT r.area, r.creator, f.billed, f.found, (SELECT count(*) FROM named)
    INTO missing_area, missing_user, billed_parents, parents_found, parents_named
    FROM refs r, (SELECT array_agg(id) FILTER (WHERE billed) AS billed, count(*) AS found FROM parents) f;
    IF missing_area IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "bags" violates foreign key constraint "bags_area_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_area_id_fkey', TABLE = 'bags',
                  DETAIL = format('Key (area_id)=(%s) is not present in table "areas".', missing_area);
    END IF;
    IF missing_user IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "bags" violates foreign key constraint "bags_created_by_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_created_by_fkey', TABLE = 'bags',
                  DETAIL = format('Key (created_by)=(%s) is not present in table "users".', missing_user);
    END IF;
    IF TG_OP = 'INSERT' AND parents_found < parents_named THEN
        SELECT c.parent_id INTO missing_parent FROM changed c
        WHERE c.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bags b WHERE b.id = c.parent_id) LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "bags" violates foreign key constraint "bags_parent_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_parent_id_fkey', TABLE = 'bags',
                  DETAIL = format('Key (parent_id)=(%s) is not present in table "bags".', missing_parent);
    END IF;

    IF billed_parents IS NOT NULL THEN
        UPDATE bills b SET child_bag_count = b.child_bag_count + sign * n.cnt, updated_at = now()
        FROM (SELECT bb.bill_id, sum(c.cnt) AS cnt
              FROM bill_bags bb
              JOIN (SELECT parent_id, count(*) AS cnt FROM changed GROUP BY parent_id) c ON c.parent_id = bb.bag_id
              WHERE bb.bag_id = ANY (billed_parents)
              GROUP BY bb.bill_id) n
        WHERE b.id = n.bill_id;

        INSERT INTO stat_counters AS s (area_id, shard, parent_bags, child_bags)
        SELECT coalesce(area_id, 0), tt_shard(),
               sign * count(*) FILTER (WHERE type = 'PARENT'), sign * count(*) FILTER (WHERE type = 'CHILD')
        FROM changed GROUP BY 1 ORDER BY 1
        ON CONFLICT (area_id, shard) DO UPDATE
            SET parent_bags = s.parent_bags + excluded.parent_bags,
                child_bags = s.child_bags + excluded.child_bags;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_bill_bags_linked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    WITH parents AS (
        UPDATE bags p SET billed = (TG_OP = 'INSERT') FROM changed c WHERE p.id = c.bag_id
        RETURNING p.id, p.child_count
    )
    UPDATE bills b SET parent_bag_count = b.parent_bag_count + sign * n.parents,
                       child_bag_count = b.child_bag_count + sign * n.children,
                       updated_at = now()
    FROM (SELECT c.bill_id, count(*) AS parents, sum(p.child_count) AS children
          FROM changed c JOIN parents p ON p.id = c.bag_id GROUP BY c.bill_id) n
    WHERE b.id = n.bill_id;

    INSERT INTO stat_counters AS s (area_id, shard, billed_parents)
    SELECT coalesce(p.area_id, 0), tt_shard(), sign * count(*)
    FROM changed c JOIN bags p ON p.id = c.bag_id GROUP BY 1 ORDER BY 1
    ON CONFLICT (area_id, shard) DO UPDATE SET billed_parents = s.billed_parents + excluded.billed_parents;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- 00016's function
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_bill_bags_linked() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- 00023's function
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_bags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
    billed_parents bigint[];
    parents_named bigint;
    parents_found bigint;
    missing_parent bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tt_check_bag_references(array_agg(DISTINCT area_id), array_agg(DISTINCT created_by)) FROM changed;
    ELSIF EXISTS (SELECT 1 FROM changed WHERE type = 'PARENT') THEN
        DELETE FROM bags WHERE parent_id IN (SELECT id FROM changed WHERE type = 'PARENT');
    END IF;

    WITH named AS (
        SELECT parent_id, count(*) AS cnt FROM changed WHERE parent_id IS NOT NULL GROUP BY parent_id
    ), parents AS (
        UPDATE bags p SET child_count = p.child_count + sign * n.cnt, updated_at = now()
        FROM named n
        WHERE p.id = n.parent_id
        RETURNING p.id, p.billed
    )
    SELECT array_agg(id) FILTER (WHERE billed), count(*), (SELECT count(*) FROM named)
    INTO billed_parents, parents_found, parents_named FROM parents;
    IF TG_OP = 'INSERT' AND parents_found < parents_named THEN
        SELECT c.parent_id INTO missing_parent FROM changed c
        WHERE c.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bags b WHERE b.id = c.parent_id) LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "bags" violates foreign key constraint "bags_parent_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_parent_id_fkey', TABLE = 'bags',
                  DETAIL = format('Key (parent_id)=(%s) is not present in table "bags".', missing_parent);
    END IF;

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
DROP FUNCTION tt_bag_status;
