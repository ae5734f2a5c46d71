package db

import (
	"context"
	"fmt"
	"time"

	"tracetrack/apperr"
)

// Scan and bill summaries for dashboards and reporting tools: one grouped, indexed query
// each. Day and hour keys are in the business time zone (tz, an IANA name), passed only to
// the groupings that use it (PostgreSQL refuses a parameter no expression mentions).

// Reporting windows: the default span of a summary and the longest one it may ask for.
const (
	DefaultSummaryWindow = 7 * 24 * time.Hour
	MaxSummaryWindow     = 366 * 24 * time.Hour
)

// SummaryWindow is a summary's [from, to): to defaults to now, from to DefaultSummaryWindow
// before to. An empty or reversed window, or one longer than MaxSummaryWindow, is
// BAD_USER_INPUT.
func SummaryWindow(from, to *time.Time, now time.Time) (time.Time, time.Time, error) {
	end := now
	if to != nil {
		end = *to
	}
	start := end.Add(-DefaultSummaryWindow)
	if from != nil {
		start = *from
	}
	if !start.Before(end) {
		return start, end, apperr.New(apperr.BadUserInput, "from (%s) must be before to (%s)",
			start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	if end.Sub(start) > MaxSummaryWindow {
		return start, end, apperr.New(apperr.BadUserInput, "a summary covers at most %d days; narrow from and to",
			int(MaxSummaryWindow/(24*time.Hour)))
	}
	return start, end, nil
}

// ScanGroup is what scan counts are grouped by.
type ScanGroup string

const (
	ScanByDay  ScanGroup = "DAY"
	ScanByHour ScanGroup = "HOUR"
	ScanByUser ScanGroup = "USER"
	ScanByArea ScanGroup = "AREA"
	ScanByKind ScanGroup = "KIND"
)

// scanGroupings say how to group scans s (raw, read from the index alone) and how to
// name a group g.k in the answer (key, with join when the name lives in another table), so
// the users and areas are joined once per group, not once per scan. A grouping with bucket
// (the same key over the quarter-hour counters b of scan_buckets) is summed from those
// counters but at the window's ragged edges: its cost does not grow with the scans in the
// window, so a week's summary costs the same at ten million bags as at one.
var scanGroupings = map[ScanGroup]struct{ raw, bucket, key, join string }{
	ScanByDay: {raw: `to_char(s.at AT TIME ZONE $6, 'YYYY-MM-DD')`, bucket: `to_char(b.bucket AT TIME ZONE $6, 'YYYY-MM-DD')`,
		key: `g.k`},
	ScanByHour: {raw: `to_char(s.at AT TIME ZONE $6, 'YYYY-MM-DD"T"HH24')`, bucket: `to_char(b.bucket AT TIME ZONE $6, 'YYYY-MM-DD"T"HH24')`,
		key: `g.k`},
	ScanByUser: {raw: `s.user_id`, key: `coalesce(u.username, '(no user)')`, join: `LEFT JOIN users u ON u.id = g.k`},
	// buckets have area 0 for scans of no area; the join leaves both as '(no area)'
	ScanByArea: {raw: `s.area_id`, bucket: `b.area_id`, key: `coalesce(a.code, '(no area)')`, join: `LEFT JOIN areas a ON a.id = g.k`},
	ScanByKind: {raw: `s.kind`, key: `g.k`},
}

// scanBucket is the width of scan_buckets' quarter hours (UTC-aligned, migration 00001).
const scanBucket = 15 * time.Minute

// bucketSpan returns the whole quarter hours [first, end) inside [from, to); first == end
// when there is none. Scans in [from, first) and [end, to) are counted from the log.
func bucketSpan(from, to time.Time) (first, end time.Time) {
	first, end = from.Truncate(scanBucket), to.Truncate(scanBucket)
	if first.Before(from) {
		first = first.Add(scanBucket)
	}
	if !first.Before(end) {
		return to, to
	}
	return first, end
}

// ScanCount is one group of a scan summary.
type ScanCount struct {
	Key   string `db:"key"`
	Count int    `db:"count"`
}

// ScanSummary counts the scans at from <= at < to (of the area asked, or all for nil,
// narrowed to the actor's read scope), grouped and ordered by key. Day, hour and area counts
// come from scan_buckets for the whole quarter hours of the window and from the scans_at
// index (at INCLUDE kind, area_id, user_id) for the rest; user and kind counts read that index
// over the whole window.
func (s *Store) ScanSummary(ctx context.Context, a Actor, group ScanGroup, from, to time.Time, asked *int64, tz string) ([]ScanCount, error) {
	areaID, err := a.ReadScope(asked)
	if err != nil {
		return nil, err
	}
	grouping, ok := scanGroupings[group]
	if !ok {
		return nil, fmt.Errorf("store: unknown scan grouping %q", group)
	}
	first, end := to, to // no buckets: the log's range [from, first) is the whole window
	if grouping.bucket != "" {
		first, end = bucketSpan(from, to)
	}
	args := []any{from, to, areaID, first, end}
	if group == ScanByDay || group == ScanByHour {
		args = append(args, tz)
	}
	// two ranges of the log, each an index-only scan of scans_at
	logged := func(since, until string) string {
		return `
			SELECT ` + grouping.raw + ` AS k, count(*) AS n
			FROM scans s
			WHERE s.at >= ` + since + ` AND s.at < ` + until + ` AND ($3::int IS NULL OR s.area_id = $3)
			GROUP BY 1`
	}
	counted := logged("$1", "$4") + `
			UNION ALL` + logged("$5", "$2")
	if grouping.bucket != "" {
		counted += `
			UNION ALL
			SELECT ` + grouping.bucket + ` AS k, sum(b.scans) AS n
			FROM scan_buckets b
			WHERE b.bucket >= $4 AND b.bucket < $5 AND ($3::int IS NULL OR b.area_id = $3)
			GROUP BY 1`
	}
	var rows []ScanCount
	err = s.reader().SelectContext(ctx, &rows, `
		SELECT `+grouping.key+` AS key, sum(g.n) AS count
		FROM (`+counted+`
		) g `+grouping.join+`
		GROUP BY 1
		ORDER BY 1`, args...)
	return rows, wrap(err, "summarise scans")
}

// BillGroup is what bill aggregates are grouped by.
type BillGroup string

const (
	BillByDay         BillGroup = "DAY"
	BillByStatus      BillGroup = "STATUS"
	BillByUser        BillGroup = "USER"
	BillByDestination BillGroup = "DESTINATION"
)

// billKeys are the key expressions over bills b (joined to users u).
var billKeys = map[BillGroup]string{
	BillByDay:         `to_char(b.created_at AT TIME ZONE $3, 'YYYY-MM-DD')`,
	BillByStatus:      `b.status`,
	BillByUser:        `coalesce(u.username, '(no user)')`,
	BillByDestination: `coalesce(nullif(btrim(b.destination), ''), '(no destination)')`,
}

// BillTotals is one group of a bill summary; Capacity is the sum of the bills' capacities.
type BillTotals struct {
	Key            string `db:"key"`
	Bills          int    `db:"bills"`
	ParentBags     int    `db:"parent_bags"`
	ChildBags      int    `db:"child_bags"`
	Capacity       int    `db:"capacity"`
	CompletedBills int    `db:"completed_bills"`
}

// billTotalsColumns are BillTotals' aggregates (but the key) over bills b.
const billTotalsColumns = `count(*) AS bills, coalesce(sum(b.parent_bag_count), 0) AS parent_bags,
	coalesce(sum(b.child_bag_count), 0) AS child_bags, coalesce(sum(b.capacity), 0) AS capacity,
	count(*) FILTER (WHERE b.status = 'COMPLETED') AS completed_bills`

// BillSummary totals the bills created at from <= created_at < to, grouped and ordered by key,
// through the bills_created index.
func (s *Store) BillSummary(ctx context.Context, group BillGroup, from, to time.Time, tz string) ([]BillTotals, error) {
	key, ok := billKeys[group]
	if !ok {
		return nil, fmt.Errorf("store: unknown bill grouping %q", group)
	}
	args := []any{from, to}
	if group == BillByDay {
		args = append(args, tz)
	}
	var rows []BillTotals
	err := s.reader().SelectContext(ctx, &rows, `
		SELECT `+key+` AS key, `+billTotalsColumns+`
		FROM bills b
		LEFT JOIN users u ON u.id = b.created_by
		WHERE b.created_at >= $1 AND b.created_at < $2
		GROUP BY 1
		ORDER BY 1`, args...)
	return rows, wrap(err, "summarise bills")
}
