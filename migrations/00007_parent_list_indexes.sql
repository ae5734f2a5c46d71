-- Newest-first parent lists (a dispatcher's parents, a biller's unbilled candidates) were the
-- most frequent active queries under the 300-user load test at 5.6M bags: they walked the
-- primary key backwards through children to find parents. These partial indexes hold
-- parents only, in id order, overall and per area.

-- +goose Up
CREATE INDEX bags_parents_newest ON bags (id) WHERE type = 'PARENT';
CREATE INDEX bags_parents_by_area_newest ON bags (area_id, id) WHERE type = 'PARENT';

-- +goose Down
DROP INDEX bags_parents_by_area_newest;
DROP INDEX bags_parents_newest;
