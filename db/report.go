package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// Reports for the end of a business day and for one user's activity. Days, weeks and hours
// are those of the business time zone (BUSINESS_TIME_ZONE), as "scans today" is.

// DayWindow is [local midnight, next local midnight) of the date in the zone: 23 or 25 hours
// long on a day the clocks change.
func DayWindow(d scalar.Date, zone *time.Location) (time.Time, time.Time) {
	start := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, zone)
	return start, start.AddDate(0, 0, 1)
}

// BusinessWeek is [Monday's local midnight, the next Monday's) of the week holding t.
func BusinessWeek(t time.Time, zone *time.Location) (time.Time, time.Time) {
	dayStart, _ := BusinessDay(t, zone)
	sinceMonday := (int(dayStart.Weekday()) + 6) % 7
	start := dayStart.AddDate(0, 0, -sinceMonday)
	return start, start.AddDate(0, 0, 7)
}

// EndOfDay is what the business day's bills (created from <= created_at < to) add up to.
type EndOfDay struct {
	Totals   BillTotals
	ByStatus []BillTotals
	ByUser   []BillTotals
}

// endOfDayGrouping tells EndOfDay's rows apart: GROUPING(status, creator) is 1 for a status
// group, 2 for a user group and 3 for the day's total.
const (
	endOfDayByStatus = 1
	endOfDayByUser   = 2
	endOfDayTotal    = 3
)

// EndOfDay totals the bills created in [from, to), by status, by the user who created them
// and in all, in one statement (one snapshot: the groups add up to the total). Bills belong
// to no area; who may read the report is the schema's @auth.
func (s *Store) EndOfDay(ctx context.Context, from, to time.Time) (*EndOfDay, error) {
	var rows []struct {
		Grouping int `db:"grouping"`
		BillTotals
	}
	err := s.reader().SelectContext(ctx, &rows, `
		SELECT GROUPING(`+billKeys[BillByStatus]+`, `+billKeys[BillByUser]+`) AS grouping,
		       coalesce(`+billKeys[BillByStatus]+`, `+billKeys[BillByUser]+`, '') AS key, `+billTotalsColumns+`
		FROM bills b
		LEFT JOIN users u ON u.id = b.created_by
		WHERE b.created_at >= $1 AND b.created_at < $2
		GROUP BY GROUPING SETS ((`+billKeys[BillByStatus]+`), (`+billKeys[BillByUser]+`), ())
		ORDER BY 1, 2`, from, to)
	if err != nil {
		return nil, wrap(err, "report the business day's bills")
	}
	out := &EndOfDay{ByStatus: []BillTotals{}, ByUser: []BillTotals{}}
	for _, r := range rows {
		switch r.Grouping {
		case endOfDayByStatus:
			out.ByStatus = append(out.ByStatus, r.BillTotals)
		case endOfDayByUser:
			out.ByUser = append(out.ByUser, r.BillTotals)
		case endOfDayTotal:
			out.Totals = r.BillTotals
		}
	}
	return out, nil
}

// ActivityWindows are the spans a user's activity is counted over.
type ActivityWindows struct {
	From, To           time.Time // the range asked
	TodayFrom, TodayTo time.Time // the business day of now
	WeekFrom, WeekTo   time.Time // the business week (Monday to Monday) of now
	// Zone is the IANA name of the business time zone: days and hours are its.
	Zone string
}

// UserActivity is one user's scanning: counts today, this week and in the range; in the
// range also the distinct bags (QRs) scanned, the busiest day and hour of day; and the last scan.
type UserActivity struct {
	User          *User
	ScansToday    int `db:"scans_today"`
	ScansThisWeek int `db:"scans_this_week"`
	ScansInRange  int `db:"scans_in_range"`
	UniqueBags    int `db:"unique_bags"`
	// PeakDay is the YYYY-MM-DD with the most scans in the range (the earliest of a tie), "" when none.
	PeakDay      string `db:"peak_day"`
	PeakDayScans int    `db:"peak_day_scans"`
	// BusiestHour is the hour of day (0-23) with the most scans over the range (the earliest
	// of a tie), -1 when none.
	BusiestHour      int `db:"busiest_hour"`
	BusiestHourScans int `db:"busiest_hour_scans"`
	LastScan         *Scan
}

// errActivityForbidden refuses another user's activity to anyone but an admin.
func errActivityForbidden() error {
	return apperr.New(apperr.Forbidden, "only admins see other users' activity; ask for your own user id")
}

// UserActivity reports the user's scans as the actor may see them: admins see anyone's,
// everyone else only their own, and a dispatcher only their own area's (a dispatcher moved
// from another area does not see the scans made there). The user must exist (NOT_FOUND).
func (s *Store) UserActivity(ctx context.Context, a Actor, userID int64, w ActivityWindows) (*UserActivity, error) {
	if a.Role != RoleAdmin && !a.isSelf(userID) {
		return nil, errActivityForbidden()
	}
	user, err := s.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	act := UserActivity{User: user.VisibleTo(a)}
	err = s.reader().GetContext(ctx, &act, `
		WITH mine AS (
			SELECT at, bag_qr FROM scans
			WHERE user_id = $1 AND ($2::bigint IS NULL OR area_id = $2)
			  AND at >= least($3::timestamptz, $5::timestamptz, $7::timestamptz)
			  AND at < greatest($4::timestamptz, $6::timestamptz, $8::timestamptz)
		), ranged AS (
			SELECT at AT TIME ZONE $9::text AS local, bag_qr FROM mine WHERE at >= $3 AND at < $4
		), peak_day AS (
			SELECT to_char(local, 'YYYY-MM-DD') AS day, count(*) AS n FROM ranged GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1
		), busiest_hour AS (
			SELECT extract(hour FROM local)::int AS hour, count(*) AS n FROM ranged GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1
		)
		SELECT (SELECT count(*) FROM ranged) AS scans_in_range,
		       (SELECT count(*) FROM mine WHERE at >= $5 AND at < $6) AS scans_today,
		       (SELECT count(*) FROM mine WHERE at >= $7 AND at < $8) AS scans_this_week,
		       (SELECT count(DISTINCT bag_qr) FROM ranged) AS unique_bags,
		       coalesce((SELECT day FROM peak_day), '') AS peak_day,
		       coalesce((SELECT n FROM peak_day), 0) AS peak_day_scans,
		       coalesce((SELECT hour FROM busiest_hour), -1) AS busiest_hour,
		       coalesce((SELECT n FROM busiest_hour), 0) AS busiest_hour_scans`,
		userID, a.scopeParam(), w.From, w.To, w.TodayFrom, w.TodayTo, w.WeekFrom, w.WeekTo, w.Zone)
	if err != nil {
		return nil, wrap(err, "report user activity")
	}
	if act.LastScan, err = s.lastScanOf(ctx, a, userID); err != nil {
		return nil, err
	}
	return &act, nil
}

// lastScanOf is the user's latest scan the actor may see, or nil.
func (s *Store) lastScanOf(ctx context.Context, a Actor, userID int64) (*Scan, error) {
	var scan Scan
	err := s.reader().GetContext(ctx, &scan, `
		SELECT `+scanColumns+` FROM scans
		WHERE user_id = $1 AND ($2::bigint IS NULL OR area_id = $2)
		ORDER BY at DESC, id DESC
		LIMIT 1`, userID, a.scopeParam())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &scan, wrap(err, "read the user's last scan")
}
