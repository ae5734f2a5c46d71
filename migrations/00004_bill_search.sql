-- Bill search (BillFilter.search: bill number or destination contains the text, any case) is
-- an ILIKE '%text%' that a btree cannot serve; trigram GIN indexes can, so the bills list
-- stays an index lookup however many bills pile up.

-- +goose Up
CREATE INDEX bills_bill_number_trgm ON bills USING gin (bill_number gin_trgm_ops);
CREATE INDEX bills_destination_trgm ON bills USING gin (destination gin_trgm_ops);

-- +goose Down
DROP INDEX bills_destination_trgm, bills_bill_number_trgm;
