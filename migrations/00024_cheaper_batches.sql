-- Cheaper child batches (issue 13's write goal).
--   * tt_bag_status(type, child_count, capacity): the status rule of the generated column
--     bags.status, as a function a statement can call on values that are not a stored row yet.
--     A child batch returns its parent as the bags trigger leaves it, after the statement (the
--     trigger's update of the parent is not visible to the statement): with it, the batch no
--     longer reads the parent again after its statement. The function's body is the column's
--     expression copied from the catalog here, so the rule is written once (00001's column);
--     db/children_test.go fails when the two differ (a later change of the column must
--     recreate the function).

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

-- +goose Down
DROP FUNCTION tt_bag_status;
