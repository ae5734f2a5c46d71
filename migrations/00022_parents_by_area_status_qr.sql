-- A dispatcher looking for a parent of their area with room lists the parents in one status
-- under a QR prefix (bags(filter: {type: PARENT, status, qrPrefix})). No index held the three:
-- the plan walked the QR range of bags_qr_key (about 1,000 parents under a 4-character prefix
-- at 10M bags, of every area and status) and fetched each row to test its area and status:
-- about 780 buffers a page, half of them read from outside shared_buffers. Parents only, in QR
-- order within an area and status: the prefix is one range of it.

-- +goose Up
CREATE INDEX bags_parents_by_area_status_qr ON bags (area_id, status, qr) WHERE type = 'PARENT';

-- +goose Down
DROP INDEX bags_parents_by_area_status_qr;
