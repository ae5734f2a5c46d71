package db

import (
	"context"
	"time"
)

// Stats are the dashboard counters of one area (or of all): what the stats query answers
// and statsUpdated publishes. Bills belong to no area, so the bill counts are always global.
type Stats struct {
	ParentBags      int `db:"parent_bags"`
	ChildBags       int `db:"child_bags"`
	OpenBills       int `db:"open_bills"`
	InProgressBills int `db:"in_progress_bills"`
	CompletedBills  int `db:"completed_bills"`
	TotalScans      int `db:"total_scans"`
	ScansToday      int `db:"scans_today"`
	Users           int `db:"users"`
}

// Bills is every bill, whatever its status.
func (st *Stats) Bills() int {
	return st.OpenBills + st.InProgressBills + st.CompletedBills
}

// BusinessDay is [local midnight, next local midnight) of t's day in the time zone: what
// "scans today" counts.
func BusinessDay(t time.Time, zone *time.Location) (time.Time, time.Time) {
	local := t.In(zone)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
	return start, start.AddDate(0, 0, 1)
}

// Stats reads the counters that the write transactions keep (stat_counters, summed over
// their shards, and the quarter-hour scan_buckets of now's business day in zone), never
// COUNT(*) over bags or scans, so it costs the same at ten million bags. asked is the area
// asked for (nil: none), narrowed to the actor's read scope (Actor.ReadScope: nil is every
// area); users are few and counted directly (active users; of an area: its active dispatchers).
func (s *Store) Stats(ctx context.Context, a Actor, asked *int64, now time.Time, zone *time.Location) (*Stats, error) {
	areaID, err := a.ReadScope(asked)
	if err != nil {
		return nil, err
	}
	dayStart, dayEnd := BusinessDay(now, zone)
	var st Stats
	err = s.reader().GetContext(ctx, &st, `
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
