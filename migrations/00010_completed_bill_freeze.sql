-- A COMPLETED bill is frozen until it is reopened (SPEC "Bills"): no parent bag is linked to
-- or unlinked from it, and no child is linked to, unlinked from or deleted from its parents.
-- The store checks this under the bill's row lock to answer BILL_COMPLETED or CONFLICT; the
-- database makes it impossible by any path (psql, a seeder, a bug in the store):
--   * every such change moves the bill's counters (the triggers of 00001 keep them in the
--     same statement), and a completed bill's counters may not move: bills_completed_frozen
--     runs on the bill row, under its lock, so it also holds against a completeBill racing
--     the change;
--   * a parent on a bill cannot be deleted at all (bill_bags_bag_key's RESTRICT);
--   * links and children are never moved in place (UPDATE of bill_bags.bill_id or
--     bags.parent_id): no trigger keeps counters for a move, so a move would slip past both
--     the counters and the freeze. Unlink and link again instead.
-- Deleting a completed bill (ADMIN) stays possible: its links go by cascade after the bill
-- row, so there is no bill left whose counters would move.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tt_refuse_completed_bill_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bill % is completed: its parent bags and their children cannot change; reopen bill % first',
        OLD.bill_number, OLD.bill_number
        USING ERRCODE = 'check_violation', CONSTRAINT = 'bills_completed_frozen', TABLE = 'bills';
END $$;
-- +goose StatementEnd

CREATE TRIGGER bills_completed_frozen BEFORE UPDATE OF parent_bag_count, child_bag_count ON bills
    FOR EACH ROW
    WHEN (OLD.completed_at IS NOT NULL AND NEW.completed_at IS NOT NULL
          AND (OLD.parent_bag_count, OLD.child_bag_count) IS DISTINCT FROM (NEW.parent_bag_count, NEW.child_bag_count))
    EXECUTE FUNCTION tt_refuse_completed_bill_change();

-- +goose StatementBegin
CREATE FUNCTION tt_refuse_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never moved in place; delete the row and insert it again', TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_no_moves', TABLE = TG_TABLE_NAME;
END $$;
-- +goose StatementEnd

CREATE TRIGGER bill_bags_no_moves BEFORE UPDATE OF bag_id, bill_id ON bill_bags
    FOR EACH ROW WHEN (OLD.bag_id <> NEW.bag_id OR OLD.bill_id <> NEW.bill_id)
    EXECUTE FUNCTION tt_refuse_move();
CREATE TRIGGER bags_no_moves BEFORE UPDATE OF parent_id ON bags
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION tt_refuse_move();

-- +goose Down
DROP TRIGGER bags_no_moves ON bags;
DROP TRIGGER bill_bags_no_moves ON bill_bags;
DROP FUNCTION tt_refuse_move;
DROP TRIGGER bills_completed_frozen ON bills;
DROP FUNCTION tt_refuse_completed_bill_change;
