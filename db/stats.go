package db

import (
	"context"
	"time"
)

// StatCounters are the dashboard counters of one area (or of all). Bills belong to no area, so the
// bill counts are always global.
type StatCounters struct {
	ParentBags      int `db:"parent_bags"`
	ChildBags       int `db:"child_bags"`
	OpenBills       int `db:"open_bills"`
	InProgressBills int `db:"in_progress_bills"`
	CompletedBills  int `db:"completed_bills"`
	TotalScans      int `db:"total_scans"`
	ScansToday      int `db:"scans_today"`
	Users           int `db:"users"`
}

// Stats reads the counters that the write transactions keep (stat_counters, summed over
// their shards, and the quarter-hour scan_buckets of [dayStart, dayEnd)), never COUNT(*) over bags
// or scans, so it costs the same at ten million bags. areaID nil means every area; users
// are few and counted directly (active users; of an area: its active dispatchers).
func (s *Store) Stats(ctx context.Context, areaID *int64, dayStart, dayEnd time.Time) (*StatCounters, error) {
	var st StatCounters
	err := s.reader().GetContext(ctx, &st, `
		SELECT coalesce(sum(parent_bags) FILTER (WHERE $1::int IS NULL OR area_id = $1), 0) AS parent_bags,
		       coalesce(sum(child_bags) FILTER (WHERE $1::int IS NULL OR area_id = $1), 0) AS child_bags,
		       coalesce(sum(scans) FILTER (WHERE $1::int IS NULL OR area_id = $1), 0) AS total_scans,
		       coalesce(sum(open_bills), 0) AS open_bills,
		       coalesce(sum(in_progress_bills), 0) AS in_progress_bills,
		       coalesce(sum(completed_bills), 0) AS completed_bills,
		       (SELECT coalesce(sum(scans), 0) FROM scan_buckets
		        WHERE bucket >= $2 AND bucket < $3 AND ($1::int IS NULL OR area_id = $1)) AS scans_today,
		       (SELECT count(*) FROM users
		        WHERE active AND ($1::int IS NULL OR area_id = $1)) AS users
		FROM stat_counters`, areaID, dayStart, dayEnd)
	return &st, wrap(err, "read stats")
}
