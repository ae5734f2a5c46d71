package db

import "context"

// TEMPORARY: the bills branch owns the real stats computation (db/stats.go). statsUpdated is
// wired to this stub until the merge; the lead replaces the wiring in app/live.go with the
// real stats method and deletes this file.

// StatsStub holds the counters the stub reads from stat_counters.
type StatsStub struct {
	ParentBags      int `db:"parent_bags"`
	ChildBags       int `db:"child_bags"`
	TotalScans      int `db:"scans"`
	OpenBills       int `db:"open_bills"`
	InProgressBills int `db:"in_progress_bills"`
	CompletedBills  int `db:"completed_bills"`
}

// LiveStatsStub sums the stat counters of an area (nil: all areas, bills included).
func (s *Store) LiveStatsStub(ctx context.Context, areaID *int64) (*StatsStub, error) {
	var st StatsStub
	err := s.db.GetContext(ctx, &st, `
		SELECT coalesce(sum(parent_bags), 0) AS parent_bags, coalesce(sum(child_bags), 0) AS child_bags,
		       coalesce(sum(scans), 0) AS scans, coalesce(sum(open_bills), 0) AS open_bills,
		       coalesce(sum(in_progress_bills), 0) AS in_progress_bills,
		       coalesce(sum(completed_bills), 0) AS completed_bills
		FROM stat_counters
		WHERE $1::bigint IS NULL OR area_id = $1`, areaID)
	return &st, wrap(err, "sum stat counters")
}
