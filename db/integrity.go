package db

import (
	"context"
)

// IntegrityIssue is one counter or invariant that disagrees with a recount from the base
// tables. EntityType and EntityID name the row: a Bag, a Bill, a ReturnTicket or an Area (area 0: no
// area).
type IntegrityIssue struct {
	Kind       string `db:"kind"`
	EntityType string `db:"entity_type"`
	EntityID   int64  `db:"entity_id"`
	Detail     string `db:"detail"`
}

// Integrity recounts, from the base tables, every counter the triggers keep and every limit
// they guard, and returns each disagreement (none: all is well). It is one statement, so it
// compares counters and rows of one snapshot even while writers run. It reads whole tables:
// an admin's check, not a dashboard's.
func (s *Store) Integrity(ctx context.Context) ([]IntegrityIssue, error) {
	var problems []IntegrityIssue
	err := s.db.SelectContext(ctx, &problems, integritySQL)
	return problems, wrap(err, "check integrity")
}

const integritySQL = `
WITH children AS (
	SELECT parent_id, count(*) AS n FROM bags WHERE parent_id IS NOT NULL GROUP BY parent_id
), parents AS (
	SELECT p.id, p.qr, p.capacity, p.child_count, coalesce(c.n, 0) AS actual
	FROM bags p LEFT JOIN children c ON c.parent_id = p.id
	WHERE p.type = 'PARENT'
), bill_actual AS (
	SELECT b.id, b.bill_number, b.capacity, b.parent_bag_count, b.child_bag_count,
	       count(p.id) AS parents, coalesce(sum(p.actual), 0) AS children
	FROM bills b
	LEFT JOIN bill_bags bb ON bb.bill_id = b.id
	LEFT JOIN parents p ON p.id = bb.bag_id
	GROUP BY b.id
), broken_references AS (
	-- joins, not a NOT EXISTS per row and column: at 1M bags 0.5-0.8 s against 2.6 s
	SELECT b.id, b.qr, b.parent_id, b.area_id, b.created_by,
	       b.parent_id IS NOT NULL AND p.id IS NULL AS no_parent,
	       b.area_id IS NOT NULL AND a.id IS NULL AS no_area,
	       b.created_by IS NOT NULL AND u.id IS NULL AS no_creator
	FROM bags b
	LEFT JOIN bags p ON p.id = b.parent_id
	LEFT JOIN areas a ON a.id = b.area_id
	LEFT JOIN users u ON u.id = b.created_by
), ticket_actual AS (
	SELECT t.id, t.code, t.bag_count, t.child_count, count(r.id) AS bags, coalesce(sum(r.child_count), 0) AS children
	FROM return_tickets t LEFT JOIN returned_bags r ON r.ticket_id = t.id
	GROUP BY t.id
), counted AS (
	SELECT area_id, sum(parent_bags) AS parent_bags, sum(child_bags) AS child_bags, sum(scans) AS scans,
	       sum(open_bills) AS open_bills, sum(in_progress_bills) AS in_progress_bills,
	       sum(completed_bills) AS completed_bills, sum(billed_parents) AS billed_parents
	FROM stat_counters GROUP BY area_id
), bucketed AS (
	SELECT area_id, sum(scans) AS scans FROM scan_buckets GROUP BY area_id
), recounted AS (
	SELECT coalesce(area_id, 0) AS area_id,
	       count(*) FILTER (WHERE type = 'PARENT') AS parent_bags,
	       count(*) FILTER (WHERE type = 'CHILD') AS child_bags,
	       count(*) FILTER (WHERE billed) AS billed_parents
	FROM bags GROUP BY 1
), billed_flags AS (
	SELECT b.id, b.qr, b.billed, bb.bill_id
	FROM bags b LEFT JOIN bill_bags bb ON bb.bag_id = b.id
	WHERE b.billed <> (bb.bill_id IS NOT NULL)
), scanned AS (
	SELECT coalesce(area_id, 0) AS area_id, count(*) AS scans FROM scans GROUP BY 1
), billed AS (
	SELECT 0 AS area_id,
	       count(*) FILTER (WHERE status = 'OPEN') AS open_bills,
	       count(*) FILTER (WHERE status = 'IN_PROGRESS') AS in_progress_bills,
	       count(*) FILTER (WHERE status = 'COMPLETED') AS completed_bills
	FROM bills
), areas_seen AS (
	SELECT area_id FROM counted UNION SELECT area_id FROM bucketed UNION SELECT area_id FROM recounted
	UNION SELECT area_id FROM scanned UNION SELECT area_id FROM billed
), stats AS (
	SELECT a.area_id,
	       coalesce(c.parent_bags, 0) AS kept_parents, coalesce(r.parent_bags, 0) AS real_parents,
	       coalesce(c.child_bags, 0) AS kept_children, coalesce(r.child_bags, 0) AS real_children,
	       coalesce(c.scans, 0) AS kept_scans, coalesce(s.scans, 0) AS real_scans,
	       coalesce(k.scans, 0) AS bucket_scans,
	       coalesce(c.open_bills, 0) AS kept_open, coalesce(b.open_bills, 0) AS real_open,
	       coalesce(c.in_progress_bills, 0) AS kept_in_progress, coalesce(b.in_progress_bills, 0) AS real_in_progress,
	       coalesce(c.completed_bills, 0) AS kept_completed, coalesce(b.completed_bills, 0) AS real_completed,
	       coalesce(c.billed_parents, 0) AS kept_billed, coalesce(r.billed_parents, 0) AS real_billed
	FROM areas_seen a
	LEFT JOIN counted c USING (area_id)
	LEFT JOIN bucketed k USING (area_id)
	LEFT JOIN recounted r USING (area_id)
	LEFT JOIN scanned s USING (area_id)
	LEFT JOIN billed b USING (area_id)
)
SELECT 'CHILD_COUNT_MISMATCH' AS kind, 'Bag' AS entity_type, id AS entity_id,
       format('parent %s: child_count is %s but it has %s children', qr, child_count, actual) AS detail
FROM parents WHERE child_count <> actual
UNION ALL
SELECT 'PARENT_OVER_CAPACITY', 'Bag', id, format('parent %s has %s children, capacity %s', qr, actual, capacity)
FROM parents WHERE actual > capacity
UNION ALL
SELECT 'BILL_COUNTER_MISMATCH', 'Bill', id,
       format('bill %s: parentBagCount is %s but %s parents are linked; childBagCount is %s but they hold %s children',
              bill_number, parent_bag_count, parents, child_bag_count, children)
FROM bill_actual WHERE parent_bag_count <> parents OR child_bag_count <> children
UNION ALL
SELECT 'BILL_OVER_CAPACITY', 'Bill', id, format('bill %s has %s parents linked, capacity %s', bill_number, parents, capacity)
FROM bill_actual WHERE parents > capacity
UNION ALL
SELECT 'RETURN_TICKET_COUNTER_MISMATCH', 'ReturnTicket', id,
       format('return ticket %s: bagCount is %s but it holds %s bags; childCount is %s but they held %s children',
              code, bag_count, bags, child_count, children)
FROM ticket_actual WHERE bag_count <> bags OR child_count <> children
UNION ALL
SELECT 'BILLED_FLAG_MISMATCH', 'Bag', id,
       CASE WHEN billed THEN format('parent %s is marked billed but is on no bill', qr)
            ELSE format('parent %s is on bill %s but not marked billed', qr, bill_id) END
FROM billed_flags
UNION ALL
SELECT 'BROKEN_REFERENCE', 'Bag', id,
       concat_ws('; ',
           CASE WHEN no_parent THEN format('bag %s names parent %s, which does not exist', qr, parent_id) END,
           CASE WHEN no_area THEN format('bag %s names area %s, which does not exist', qr, area_id) END,
           CASE WHEN no_creator THEN format('bag %s names creator %s, who does not exist', qr, created_by) END)
FROM broken_references WHERE no_parent OR no_area OR no_creator
UNION ALL
SELECT 'STATS_COUNTER_MISMATCH', 'Area', area_id, format('%s: counter says %s, recount says %s', what, kept, actual)
FROM stats, LATERAL (VALUES
	('parent bags', kept_parents, real_parents),
	('child bags', kept_children, real_children),
	('scans', kept_scans, real_scans),
	('scans in quarter-hour buckets', bucket_scans, real_scans),
	('open bills', kept_open, real_open),
	('in-progress bills', kept_in_progress, real_in_progress),
	('completed bills', kept_completed, real_completed),
	('billed parents', kept_billed, real_billed)
) AS v(what, kept, actual)
WHERE kept <> actual
ORDER BY 1, 2, 3`
