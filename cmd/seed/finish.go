package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"tracetrack/db"
)

// secondaryIndex is an index the load goes faster without; it is rebuilt from its definition.
type secondaryIndex struct{ name, definition string }

// dropSecondaryIndexes drops the indexes of the big tables that no constraint needs:
// building them once after the load beats updating them row by row.
func dropSecondaryIndexes(ctx context.Context, conn *sql.DB) ([]secondaryIndex, error) {
	rows, err := conn.QueryContext(ctx, `
		SELECT i.indexname, i.indexdef
		FROM pg_indexes i
		WHERE i.schemaname = 'public' AND i.tablename IN ('bags', 'scans')
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if err != nil {
		return nil, err
	}
	var indexes []secondaryIndex
	for rows.Next() {
		var ix secondaryIndex
		if err := rows.Scan(&ix.name, &ix.definition); err != nil {
			rows.Close()
			return nil, err
		}
		indexes = append(indexes, ix)
	}
	rows.Close()
	for _, ix := range indexes {
		if _, err := conn.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	return indexes, rows.Err()
}

// finish marks the billed parents (before the indexes exist, so no index is updated row by
// row), vacuums the loaded tables, rebuilds the indexes, moves the id sequences past the
// loaded rows, recounts the stats counters from the tables, and refreshes the planner
// statistics.
func finish(ctx context.Context, conn *sql.DB, indexes []secondaryIndex, out io.Writer) error {
	c, err := conn.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, setting := range []string{`SET maintenance_work_mem = '512MB'`, `SET max_parallel_maintenance_workers = 2`} {
		if _, err := c.ExecContext(ctx, setting); err != nil {
			return err
		}
	}
	start := time.Now()
	if _, err := c.ExecContext(ctx, markBilledParents); err != nil {
		return fmt.Errorf("mark billed parents: %w", err)
	}
	fmt.Fprintf(out, "  %-34s %s\n", "billed parents", time.Since(start).Round(100*time.Millisecond))
	// A loaded table is as a deployment's autovacuum leaves it only after a vacuum: until then
	// each first reader of a page checks every row's transaction and dirties the page with
	// hint bits (with a small shared_buffers, evicting it costs a write), and no index-only
	// scan skips the heap. Before the secondary indexes exist, the marking's dead rows leave
	// only the constraint indexes to clean.
	start = time.Now()
	if _, err := c.ExecContext(ctx, `VACUUM bags, scans, bills, bill_bags`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	fmt.Fprintf(out, "  %-34s %s\n", "vacuum", time.Since(start).Round(100*time.Millisecond))
	for _, ix := range indexes {
		start := time.Now()
		if _, err := c.ExecContext(ctx, ix.definition); err != nil {
			return fmt.Errorf("rebuild index %s: %w", ix.name, err)
		}
		fmt.Fprintf(out, "  index %-28s %s\n", ix.name, time.Since(start).Round(100*time.Millisecond))
	}
	for _, step := range []struct{ name, sql string }{
		{"sequences", resetSequences},
		{"stats counters", recountStats},
		{"scan buckets", recountBuckets},
		{"planner statistics", `ANALYZE`},
	} {
		start := time.Now()
		if _, err := c.ExecContext(ctx, step.sql); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
		fmt.Fprintf(out, "  %-34s %s\n", step.name, time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

const resetSequences = `
SELECT setval(pg_get_serial_sequence('bags', 'id'), (SELECT max(id) FROM bags));
SELECT setval(pg_get_serial_sequence('bills', 'id'), greatest(1, (SELECT max(id) FROM bills)));
SELECT setval(pg_get_serial_sequence('bill_bags', 'id'), greatest(1, (SELECT max(id) FROM bill_bags)));
SELECT setval(pg_get_serial_sequence('scans', 'id'), (SELECT max(id) FROM scans));`

// markBilledParents does what the bill_bags triggers do for the links the load made.
const markBilledParents = `UPDATE bags b SET billed = true FROM bill_bags bb WHERE b.id = bb.bag_id`

// recountStats rebuilds the sharded counters as one row per area (shard 0); the shards only
// spread concurrent writers, the sums are what count.
const recountStats = `
DELETE FROM stat_counters;
INSERT INTO stat_counters (area_id, shard, parent_bags, child_bags, billed_parents, scans, open_bills, in_progress_bills, completed_bills)
SELECT coalesce(b.area_id, s.area_id, l.area_id), 0, coalesce(b.parents, 0), coalesce(b.children, 0),
       coalesce(b.billed, 0), coalesce(s.scans, 0), coalesce(l.open, 0), coalesce(l.in_progress, 0), coalesce(l.completed, 0)
FROM (SELECT coalesce(area_id, 0) AS area_id, count(*) FILTER (WHERE type = 'PARENT') AS parents,
             count(*) FILTER (WHERE type = 'CHILD') AS children, count(*) FILTER (WHERE billed) AS billed
      FROM bags GROUP BY 1) b
FULL JOIN (SELECT coalesce(area_id, 0) AS area_id, count(*) AS scans FROM scans GROUP BY 1) s USING (area_id)
FULL JOIN (SELECT 0 AS area_id, count(*) FILTER (WHERE status = 'OPEN') AS open,
                  count(*) FILTER (WHERE status = 'IN_PROGRESS') AS in_progress,
                  count(*) FILTER (WHERE status = 'COMPLETED') AS completed
           FROM bills) l USING (area_id);`

const recountBuckets = `
DELETE FROM scan_buckets;
INSERT INTO scan_buckets (bucket, area_id, shard, scans)
SELECT date_bin('15 minutes', at, timestamptz '2000-01-01 00:00:00+00'), coalesce(area_id, 0), 0, count(*)
FROM scans GROUP BY 1, 2;`

// checkIntegrity runs the server's own integrity check over the result.
func checkIntegrity(ctx context.Context, databaseURL string, out io.Writer) error {
	store, err := db.Open(ctx, databaseURL, 2)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	problems, err := store.Integrity(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		for _, p := range problems[:min(len(problems), 10)] {
			fmt.Fprintf(out, "  %s %d: %s\n", p.Kind, p.EntityID, p.Detail)
		}
		return fmt.Errorf("integrity check found %d problems", len(problems))
	}
	fmt.Fprintf(out, "integrity: ok (%s)\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}
