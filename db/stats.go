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
	if areaID == nil {
		err = s.reader().GetContext(ctx, &st, statsOfAllAreas, dayStart, dayEnd)
	} else {
		err = s.reader().GetContext(ctx, &st, statsOfArea, dayStart, dayEnd, *areaID)
	}
	return &st, wrap(err, "read stats")
}

// statsQuery is Stats' statement over the rows that match area (SQL of the table's area_id:
// TRUE for every area), written so that its prepared statement runs a generic plan, planned
// once per connection: the statement used to be planned again at every execution (planning
// was half of its cost; bench/README.md). PostgreSQL keeps planning a prepared statement
// when the generic plan's estimate exceeds the custom plans'. So every area and one area are
// two statements, not one with "$3 IS NULL OR area_id = $3", which a generic plan must fit
// both ways; and the business day's bounds are subqueries, which both plans see as unknown
// alike (a day's range of parameters is estimated at twice the buckets of the actual day):
// the same plan either way, an index range over the day's buckets.
func statsQuery(area string) string {
	return `
		SELECT coalesce(sum(parent_bags) FILTER (WHERE ` + area + `), 0) AS parent_bags,
		       coalesce(sum(child_bags) FILTER (WHERE ` + area + `), 0) AS child_bags,
		       coalesce(sum(scans) FILTER (WHERE ` + area + `), 0) AS total_scans,
		       coalesce(sum(open_bills), 0) AS open_bills,
		       coalesce(sum(in_progress_bills), 0) AS in_progress_bills,
		       coalesce(sum(completed_bills), 0) AS completed_bills,
		       (SELECT coalesce(sum(scans), 0) FROM scan_buckets
		        WHERE bucket >= (SELECT $1::timestamptz) AND bucket < (SELECT $2::timestamptz)
		          AND ` + area + `) AS scans_today,
		       (SELECT count(*) FROM users WHERE active AND ` + area + `) AS users
		FROM stat_counters`
}

var (
	statsOfAllAreas = statsQuery("TRUE")
	statsOfArea     = statsQuery("area_id = $3")
)
