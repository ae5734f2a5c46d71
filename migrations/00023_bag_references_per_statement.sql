-- A bag's parent, area and creator, checked once per statement instead of once per row. The
-- foreign keys bags_parent_id_fkey, bags_area_id_fkey and bags_created_by_fkey checked every
-- inserted bag on its own: an SPI query per row and per key, each locking the referenced row
-- FOR KEY SHARE (a child batch of 30 ran 90 of them, on the same three rows, which every
-- concurrent batch locks too). The bags trigger now enforces the same references with the same
-- or stronger locks, once per statement:
--   * the parent: the trigger's update of the parents' child_count (00016) locks and changes
--     every parent the new children name; a parent it does not find (missing, or deleted by a
--     transaction that committed meanwhile) fails the statement. Deleted parents take their
--     children with them (ON DELETE CASCADE), in the trigger's statement for the deleted rows;
--     a parent's id changed while children name it is refused.
--   * the area and the creator: every area and user the new rows name must exist and is locked
--     FOR KEY SHARE, as the foreign key's check locks it (a row trigger does the same for a
--     bag whose area or creator changes). An area deleted, or its id changed, while bags name
--     it: refused (NO ACTION). A user deleted: their bags' created_by becomes NULL (ON DELETE
--     SET NULL); a user's id changed while bags name it: refused.
-- Concurrency, READ COMMITTED (the store's isolation): the referenced row is locked by whichever
-- transaction comes first. A delete that comes second waits for the inserting transaction and
-- its trigger's statement then takes a new snapshot, which sees the committed bags (a parent
-- was updated by the insert, so its delete follows the new version). An insert whose check
-- comes second waits for the deleting transaction, finds the row gone (an update or locking read
-- skips it) and fails. Under REPEATABLE READ or SERIALIZABLE a trigger's statements keep the
-- transaction's snapshot and could miss such bags (the foreign keys use a cross-check snapshot
-- there): a parent's delete then fails on its own (the insert updated the parent row: a
-- serialization failure), and deleting or renumbering an area or a user is refused outside
-- READ COMMITTED. Violations are foreign_key_violation (23503) naming the old constraints.
-- db/references_test.go races the writers against each other and checks the references after.

-- +goose Up
-- +goose StatementBegin
-- tt_check_bag_references fails unless every area and user named exists, and locks them FOR KEY
-- SHARE (NULLs name nothing).
CREATE FUNCTION tt_check_bag_references(area_ids integer[], user_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    missing_area integer;
    missing_user bigint;
BEGIN
    SELECT (SELECT a.id FROM unnest(area_ids) a(id)
            WHERE a.id IS NOT NULL
              AND a.id NOT IN (SELECT id FROM areas WHERE id = ANY (area_ids) FOR KEY SHARE)
            LIMIT 1),
           (SELECT u.id FROM unnest(user_ids) u(id)
            WHERE u.id IS NOT NULL
              AND u.id NOT IN (SELECT id FROM users WHERE id = ANY (user_ids) FOR KEY SHARE)
            LIMIT 1)
    INTO missing_area, missing_user;
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
END $$;
-- +goose StatementEnd

-- Bags inserted or deleted (00016's function, with the references): inserted, the areas and
-- users checked first, then the parents' counts, whose update finds every parent named; deleted,
-- the children of deleted parents first (their own statement runs this trigger for them).
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

-- +goose StatementBegin
CREATE FUNCTION tt_bag_references_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id <> OLD.id AND EXISTS (SELECT 1 FROM bags WHERE parent_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "bags" violates foreign key constraint "bags_parent_id_fkey" on table "bags"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_parent_id_fkey', TABLE = 'bags',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "bags".', OLD.id);
    END IF;
    PERFORM tt_check_bag_references(ARRAY[NEW.area_id], ARRAY[NEW.created_by]);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- tt_refuse_outside_read_committed: see the header (a row trigger's snapshot).
-- +goose StatementBegin
CREATE FUNCTION tt_refuse_outside_read_committed(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% runs only in READ COMMITTED transactions (bags'' references are checked with a new snapshot)', what
            USING ERRCODE = 'serialization_failure';
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tt_area_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tt_refuse_outside_read_committed('deleting or renumbering an area');
    IF EXISTS (SELECT 1 FROM bags WHERE area_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "areas" violates foreign key constraint "bags_area_id_fkey" on table "bags"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_area_id_fkey', TABLE = 'bags',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "bags".', OLD.id);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION tt_user_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tt_refuse_outside_read_committed('deleting or renumbering a user');
    IF TG_OP = 'DELETE' THEN
        UPDATE bags SET created_by = NULL WHERE created_by = OLD.id;
    ELSIF EXISTS (SELECT 1 FROM bags WHERE created_by = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "users" violates foreign key constraint "bags_created_by_fkey" on table "bags"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'bags_created_by_fkey', TABLE = 'bags',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "bags".', OLD.id);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

ALTER TABLE bags DROP CONSTRAINT bags_parent_id_fkey, DROP CONSTRAINT bags_area_id_fkey,
    DROP CONSTRAINT bags_created_by_fkey;
CREATE TRIGGER bags_references_changed AFTER UPDATE OF id, area_id, created_by ON bags FOR EACH ROW
    WHEN (NEW.id <> OLD.id
          OR (NEW.area_id IS NOT NULL AND NEW.area_id IS DISTINCT FROM OLD.area_id)
          OR (NEW.created_by IS NOT NULL AND NEW.created_by IS DISTINCT FROM OLD.created_by))
    EXECUTE FUNCTION tt_bag_references_changed();
CREATE TRIGGER areas_deleted_referenced AFTER DELETE ON areas FOR EACH ROW
    EXECUTE FUNCTION tt_area_referenced();
CREATE TRIGGER areas_renumbered_referenced AFTER UPDATE OF id ON areas FOR EACH ROW
    WHEN (OLD.id <> NEW.id) EXECUTE FUNCTION tt_area_referenced();
CREATE TRIGGER users_deleted_referenced AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION tt_user_referenced();
CREATE TRIGGER users_renumbered_referenced AFTER UPDATE OF id ON users FOR EACH ROW
    WHEN (OLD.id <> NEW.id) EXECUTE FUNCTION tt_user_referenced();

-- +goose Down
DROP TRIGGER users_renumbered_referenced ON users;
DROP TRIGGER users_deleted_referenced ON users;
DROP TRIGGER areas_renumbered_referenced ON areas;
DROP TRIGGER areas_deleted_referenced ON areas;
DROP TRIGGER bags_references_changed ON bags;
DROP FUNCTION tt_user_referenced, tt_area_referenced, tt_refuse_outside_read_committed,
    tt_bag_references_changed;
-- 00016's function
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_bags_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION tt_check_bag_references;
ALTER TABLE bags ADD CONSTRAINT bags_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES bags (id) ON DELETE CASCADE,
    ADD CONSTRAINT bags_area_id_fkey FOREIGN KEY (area_id) REFERENCES areas (id),
    ADD CONSTRAINT bags_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL;
