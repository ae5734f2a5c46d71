-- bags_qr_format, the same rule for less CPU. It runs for every bag written (a scanChildren
-- batch writes 30 in one statement, and the bags trigger's update of the parent checks it
-- again), and it cost twice over:
--   * per statement: PostgreSQL prepares a table's CHECK expressions in every statement that
--     writes the table, and inlining tt_parent_qr means parsing and analysing its SQL text
--     each time. The check named it twice (one per branch of a CASE on type); it names it
--     once now: "a QR is a parent QR exactly when the bag is a parent", and a child's own
--     format.
--   * per row: PostgreSQL's regular expressions cost by the states of the pattern, built
--     again on every call; the bounded repetition of '^[A-Z0-9]{4,20}$' cost 5-8 µs a row.
--   * A child's QR: 4 to 20 characters out of A-Z and 0-9. The length is now a length test
--     and the pattern '^[A-Z0-9]+$' (1 µs). octet_length is length here: a string of those
--     characters only is ASCII, and any other string fails the pattern anyway.
--   * A parent QR (tt_parent_qr, rebuilt from label_series by tt_parent_qr_rebuild): every
--     series' QRs have one length, length(prefix) + digits (prefixes and digits are ASCII,
--     label_series_prefix_format), so a QR of none of those lengths is no series' QR and the
--     pattern is not run. That is every child whose length no series has.
-- db/qrformat_test.go evaluates the old and the new rule over a table of edge cases and
-- random strings, with the default series and with more, and finds them equal.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tt_parent_qr_rebuild() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
DECLARE
    pattern text;
    lengths text;
BEGIN
    SELECT '^(' || string_agg(prefix || '[0-9]{' || digits || '}', '|' ORDER BY id) || ')$',
           string_agg(DISTINCT (length(prefix) + digits)::text, ', ')
    INTO pattern, lengths FROM label_series;
    EXECUTE format('CREATE OR REPLACE FUNCTION tt_parent_qr(qr text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        CASE WHEN pattern IS NULL THEN 'SELECT false'
             ELSE 'SELECT octet_length(qr) IN (' || lengths || ') AND qr ~ ' || quote_literal(pattern) END);
END $$;
-- +goose StatementEnd

-- tt_label_series_rebuild rewrites tt_parent_qr from the table and tells every instance.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_label_series_rebuild() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
    PERFORM tt_parent_qr_rebuild();
    PERFORM pg_notify('tracetrack_label_series', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd

SELECT tt_parent_qr_rebuild();

ALTER TABLE bags DROP CONSTRAINT bags_qr_format,
    ADD CONSTRAINT bags_qr_format CHECK (tt_parent_qr(qr) = (type = 'PARENT')
        AND (type = 'PARENT' OR (octet_length(qr) BETWEEN 4 AND 20 AND qr ~ '^[A-Z0-9]+$')));

-- +goose Down
ALTER TABLE bags DROP CONSTRAINT bags_qr_format,
    ADD CONSTRAINT bags_qr_format CHECK (CASE type
        WHEN 'PARENT' THEN tt_parent_qr(qr)
        ELSE qr ~ '^[A-Z0-9]{4,20}$' AND NOT tt_parent_qr(qr) END);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tt_label_series_rebuild() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
DECLARE
    pattern text;
BEGIN
    SELECT '^(' || string_agg(prefix || '[0-9]{' || digits || '}', '|' ORDER BY id) || ')$'
    INTO pattern FROM label_series;
    EXECUTE format('CREATE OR REPLACE FUNCTION tt_parent_qr(qr text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        CASE WHEN pattern IS NULL THEN 'SELECT false' ELSE 'SELECT qr ~ ' || quote_literal(pattern) END);
    PERFORM pg_notify('tracetrack_label_series', '');
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- tt_parent_qr as 00014 wrote it
-- +goose StatementBegin
DO $$
DECLARE
    pattern text;
BEGIN
    SELECT '^(' || string_agg(prefix || '[0-9]{' || digits || '}', '|' ORDER BY id) || ')$'
    INTO pattern FROM label_series;
    EXECUTE format('CREATE OR REPLACE FUNCTION tt_parent_qr(qr text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        CASE WHEN pattern IS NULL THEN 'SELECT false' ELSE 'SELECT qr ~ ' || quote_literal(pattern) END);
END $$;
-- +goose StatementEnd

DROP FUNCTION tt_parent_qr_rebuild;
