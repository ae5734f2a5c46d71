package resolvers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The reports are checked against recounts the tests make on their own: by SQL written
// differently from the store's (dates by casting, not by windows), or by construction.

// reportNow is Wednesday 2025-03-12, 17:30 in Asia/Kolkata (the tests' business time zone):
// the business week began on Monday 2025-03-10 00:00 local, 2025-03-09T18:30Z.
var reportNow = time.Date(2025, 3, 12, 12, 0, 0, 0, time.UTC)

func newReportEnv(t *testing.T) (*apitest.Env, *fixture) {
	env := apitest.New(t, func(o *app.Options) { o.Resolvers.Now = func() time.Time { return reportNow } })
	return env, newFixture(t, env)
}

type aggregateOut struct {
	Key                                          string
	Bills, ParentBags, ChildBags, CompletedBills int
	TotalWeightKg, ExpectedWeightKg              float64
}

type endOfDayOut struct {
	Date, From, To   string
	Totals           aggregateOut
	ByStatus, ByUser []aggregateOut
}

const aggregateFields = `key bills parentBags childBags completedBills totalWeightKg expectedWeightKg`

func endOfDay(t *testing.T, env *apitest.Env, token string, date any) (*endOfDayOut, *apitest.Response) {
	t.Helper()
	resp := env.Do(t, token, `query($d: Date!) { endOfDayReport(date: $d) { date from to
		totals { `+aggregateFields+` } byStatus { `+aggregateFields+` } byUser { `+aggregateFields+` } } }`,
		map[string]any{"d": date})
	if len(resp.Errors) > 0 {
		return nil, resp
	}
	var out struct{ EndOfDayReport endOfDayOut }
	resp.Decode(t, &out)
	return &out.EndOfDayReport, resp
}

// recountDay is the day's bills grouped by the SQL expression, counted by casting created_at to
// a local date: a different route from the store's window.
func recountDay(t *testing.T, fx *fixture, date, group string) []aggregateOut {
	t.Helper()
	rows, err := fx.db.Query(`
		SELECT `+group+`, count(*), sum(b.parent_bag_count), sum(b.child_bag_count),
		       count(*) FILTER (WHERE b.completed_at IS NOT NULL), sum(b.child_bag_count) * 1.0, sum(b.capacity) * 30.0
		FROM bills b LEFT JOIN users u ON u.id = b.created_by
		WHERE (b.created_at AT TIME ZONE 'Asia/Kolkata')::date = $1::date
		GROUP BY 1 ORDER BY 1`, date)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []aggregateOut
	for rows.Next() {
		var a aggregateOut
		if err := rows.Scan(&a.Key, &a.Bills, &a.ParentBags, &a.ChildBags, &a.CompletedBills, &a.TotalWeightKg, &a.ExpectedWeightKg); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestEndOfDayReportAgainstRecount(t *testing.T) {
	t.Parallel()
	env, fx := newReportEnv(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, biller2 := env.NewUser(t, db.RoleBiller, "")
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	qrs := fx.parents(t, 81001, 6, "jaipur")
	for i, qr := range qrs {
		fx.children(t, qr, fmt.Sprintf("EODK%d", i), i+1)
	}
	// the business day 2025-03-11 in Kolkata is [2025-03-10T18:30Z, 2025-03-11T18:30Z)
	day := map[string]struct {
		token, createdAt string
		parents          []string
		complete         bool
	}{
		"EOD-FIRST":  {biller, "2025-03-10T18:30:00Z", qrs[0:2], true},  // the day's first instant
		"EOD-MID":    {biller, "2025-03-11T06:00:00Z", qrs[2:3], false}, // in progress
		"EOD-EMPTY":  {biller2, "2025-03-11T09:00:00Z", nil, false},     // open
		"EOD-LAST":   {biller2, "2025-03-11T18:29:59Z", qrs[3:4], true}, // the day's last second
		"EOD-BEFORE": {biller, "2025-03-10T18:29:59Z", qrs[4:5], false}, // 23:59:59 the day before
		"EOD-AFTER":  {admin, "2025-03-11T18:30:00Z", qrs[5:6], true},   // the next day's first instant
	}
	for number, b := range day {
		bill := mustCreateBill(t, env, b.token, number, 3+len(b.parents))
		if len(b.parents) > 0 {
			mustLink(t, env, b.token, bill.ID, b.parents...)
		}
		if b.complete {
			if r := billMutation(t, env, b.token, "completeBill", bill.ID); len(r.Errors) > 0 {
				t.Fatalf("complete %s: %+v", number, r.Errors)
			}
		}
		fx.exec(t, `UPDATE bills SET created_at = $1 WHERE bill_number = $2`, b.createdAt, number)
	}

	for _, token := range []string{biller, admin} {
		got, resp := endOfDay(t, env, token, "2025-03-11")
		if resp.Code() != "" {
			t.Fatalf("endOfDayReport: %+v", resp.Errors)
		}
		if got.Date != "2025-03-11" || !sameInstant(got.From, "2025-03-10T18:30:00Z") || !sameInstant(got.To, "2025-03-11T18:30:00Z") {
			t.Errorf("the day's window: %s [%s, %s)", got.Date, got.From, got.To)
		}
		total := recountDay(t, fx, "2025-03-11", `'2025-03-11'`)
		if want := total[0]; fmt.Sprint(got.Totals) != fmt.Sprint(want) || want.Bills != 4 {
			t.Errorf("totals: %+v, recount %+v (4 bills)", got.Totals, want)
		}
		if want := recountDay(t, fx, "2025-03-11", `b.status`); fmt.Sprint(got.ByStatus) != fmt.Sprint(want) {
			t.Errorf("byStatus: %+v, recount %+v", got.ByStatus, want)
		}
		if want := recountDay(t, fx, "2025-03-11", `u.username`); fmt.Sprint(got.ByUser) != fmt.Sprint(want) || len(want) != 2 {
			t.Errorf("byUser: %+v, recount %+v", got.ByUser, want)
		}
	}

	// the day's bills in detail, paged: exactly the four of the day, newest first
	var seen []string
	after := ""
	for range 5 {
		var out struct {
			EndOfDayReport struct {
				Bills struct {
					TotalCount int
					PageInfo   struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct {
						Node struct {
							BillNumber, Status string
							CompletedBy        *struct{ Username string }
						}
					}
				}
			}
		}
		vars := map[string]any{"d": "2025-03-11"}
		if after != "" {
			vars["a"] = after
		}
		env.MustDo(t, biller, `query($d: Date!, $a: String) { endOfDayReport(date: $d) {
			bills(first: 3, after: $a) { totalCount pageInfo { hasNextPage endCursor }
			edges { node { billNumber status completedBy { username } } } } } }`, vars, &out)
		page := out.EndOfDayReport.Bills
		if page.TotalCount != 4 {
			t.Errorf("bills.totalCount: %d, want 4", page.TotalCount)
		}
		for _, e := range page.Edges {
			seen = append(seen, e.Node.BillNumber)
			if (e.Node.Status == "COMPLETED") != (e.Node.CompletedBy != nil) {
				t.Errorf("bill %s is %s with completedBy %+v", e.Node.BillNumber, e.Node.Status, e.Node.CompletedBy)
			}
		}
		if !page.PageInfo.HasNextPage {
			break
		}
		after = page.PageInfo.EndCursor
	}
	slices.Sort(seen)
	if want := []string{"EOD-EMPTY", "EOD-FIRST", "EOD-LAST", "EOD-MID"}; !slices.Equal(seen, want) {
		t.Errorf("the day's bills: %v, want %v", seen, want)
	}

	// a day without bills is a report of zeros, not an error
	if got, resp := endOfDay(t, env, biller, "2001-01-01"); resp.Code() != "" || got.Totals.Bills != 0 || len(got.ByStatus) != 0 || len(got.ByUser) != 0 {
		t.Errorf("an empty day: %+v %+v", got, resp.Errors)
	}
}

func TestEndOfDayReportRolesAndBadDates(t *testing.T) {
	t.Parallel()
	env, _ := newReportEnv(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, "jaipur")
	if _, resp := endOfDay(t, env, dispatcher, "2025-03-11"); resp.Code() != "FORBIDDEN" {
		t.Errorf("a dispatcher's endOfDayReport: %+v, want FORBIDDEN", resp.Errors)
	}
	if _, resp := endOfDay(t, env, "", "2025-03-11"); resp.Code() != "UNAUTHENTICATED" {
		t.Errorf("an anonymous endOfDayReport: %+v, want UNAUTHENTICATED", resp.Errors)
	}
	for _, bad := range []any{"2025-02-30", "2025-2-01", "2025-03-11T00:00:00Z", " 2025-03-11", "2025-03-11 ",
		"11-03-2025", "2025/03/11", "", "+2025-03-11", 20250311, true, nil} {
		_, resp := endOfDay(t, env, biller, bad)
		if resp.Code() != "BAD_USER_INPUT" || (bad != nil && !strings.Contains(resp.Errors[0].Message, "YYYY-MM-DD")) {
			t.Errorf("date %#v: %+v, want BAD_USER_INPUT saying YYYY-MM-DD", bad, resp.Errors)
		}
	}
}

type activityOut struct {
	User                                                struct{ Username string }
	From, To                                            string
	ScansToday, ScansThisWeek, ScansInRange, UniqueBags int
	PeakDay                                             *struct {
		Date  string
		Count int
	}
	BusiestHour *struct{ Hour, Count int }
	LastScan    *struct{ BagQr, At string }
}

// String shows the report with what its pointers point to.
func (a *activityOut) String() string {
	c := *a
	c.PeakDay, c.BusiestHour, c.LastScan = nil, nil, nil
	return fmt.Sprintf("%+v peakDay %s busiestHour %s", c, shown(a.PeakDay), shown(a.BusiestHour))
}

func shown[T any](p *T) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v", *p)
}

func userActivity(t *testing.T, env *apitest.Env, token string, vars map[string]any) (*activityOut, *apitest.Response) {
	t.Helper()
	resp := env.Do(t, token, `query($u: ID!, $from: Time, $to: Time) { userActivity(userId: $u, from: $from, to: $to) {
		user { username } from to scansToday scansThisWeek scansInRange uniqueBags
		peakDay { date count } busiestHour { hour count } lastScan { bagQr at } } }`, vars)
	if len(resp.Errors) > 0 {
		return nil, resp
	}
	var out struct{ UserActivity activityOut }
	resp.Decode(t, &out)
	return &out.UserActivity, resp
}

// scanOf logs a scan of the QR at a fixed time for the user in the area.
func (f *fixture) scanOf(t *testing.T, qr, at, area string, user *db.User) {
	t.Helper()
	f.exec(t, `INSERT INTO scans (kind, at, bag_qr, user_id, area_id)
		VALUES ('CHILD_LINKED', $1, $2, $3, (SELECT id FROM areas WHERE code = $4))`, at, qr, user.ID, area)
}

// recountActivity counts the user's scans (of the area, "" for all) with local dates and
// hours by casting, over [from, to) and the local day and ISO week of the reference date.
func recountActivity(t *testing.T, fx *fixture, user *db.User, area, from, to string) activityOut {
	t.Helper()
	var a activityOut
	var peakDay string
	var peakDayCount, hour, hourCount int
	err := fx.db.QueryRow(`
		WITH mine AS (
			SELECT at AT TIME ZONE 'Asia/Kolkata' AS local, at, bag_qr FROM scans
			WHERE user_id = $1 AND ($2 = '' OR area_id = (SELECT id FROM areas WHERE code = $2))
		), ranged AS (SELECT * FROM mine WHERE at >= $3::timestamptz AND at < $4::timestamptz)
		SELECT (SELECT count(*) FROM mine WHERE local::date = '2025-03-12'),
		       (SELECT count(*) FROM mine WHERE date_trunc('week', local) = '2025-03-10'),
		       (SELECT count(*) FROM ranged),
		       (SELECT count(DISTINCT bag_qr) FROM ranged),
		       coalesce((SELECT local::date::text FROM ranged GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1), ''),
		       coalesce((SELECT count(*) FROM ranged GROUP BY local::date ORDER BY count(*) DESC LIMIT 1), 0),
		       coalesce((SELECT date_part('hour', local)::int FROM ranged GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1), -1),
		       coalesce((SELECT count(*) FROM ranged GROUP BY date_part('hour', local) ORDER BY count(*) DESC LIMIT 1), 0)`,
		user.ID, area, from, to).Scan(&a.ScansToday, &a.ScansThisWeek, &a.ScansInRange, &a.UniqueBags, &peakDay, &peakDayCount, &hour, &hourCount)
	if err != nil {
		t.Fatal(err)
	}
	if peakDay != "" {
		a.PeakDay = &struct {
			Date  string
			Count int
		}{peakDay, peakDayCount}
	}
	if hour >= 0 {
		a.BusiestHour = &struct{ Hour, Count int }{hour, hourCount}
	}
	return a
}

func TestUserActivityAgainstRecount(t *testing.T) {
	t.Parallel()
	env, fx := newReportEnv(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	worker, workerToken := env.NewUser(t, db.RoleDispatcher, "jaipur")
	other, _ := env.NewUser(t, db.RoleBiller, "")
	// Kolkata is UTC+5:30: local 2025-03-12 is [03-11T18:30Z, 03-12T18:30Z), the week began 03-09T18:30Z
	for _, s := range []struct{ qr, at, area string }{
		{"SB00001", "2025-03-12T03:00:00Z", "jaipur"},  // today 08:30
		{"KID00001", "2025-03-12T03:10:00Z", "jaipur"}, // today 08:40
		{"SB00001", "2025-03-12T03:20:00Z", "jaipur"},  // today 08:50, the same bag again
		{"KID00002", "2025-03-11T18:30:00Z", "jaipur"}, // today 00:00, its first instant
		{"KID00003", "2025-03-11T18:29:00Z", "jaipur"}, // yesterday 23:59
		{"KID00004", "2025-03-10T03:05:00Z", "jaipur"}, // Monday 08:35
		{"KID00005", "2025-03-10T03:15:00Z", "jaipur"}, // Monday 08:45
		{"KID00006", "2025-03-09T18:29:00Z", "jaipur"}, // Sunday 23:59: last week
		{"KID00007", "2025-03-08T10:00:00Z", "jaipur"}, // Saturday 15:30
		{"KID00008", "2025-03-12T09:00:00Z", "hisar"},  // today, another area (from before a move)
		{"KID00009", "2025-02-01T09:00:00Z", "jaipur"}, // before the default 7 days
	} {
		fx.scanOf(t, s.qr, s.at, s.area, worker)
	}
	fx.scanOf(t, "KID00099", "2025-03-12T04:00:00Z", "jaipur", other) // someone else's

	for _, tc := range []struct {
		name, token, area string
		vars              map[string]any
		from, to          string
		last              string
	}{
		{"admin, default range", admin, "", map[string]any{}, "2025-03-05T12:00:00Z", "2025-03-12T12:00:00Z", "KID00008"},
		{"admin, a range", admin, "", map[string]any{"from": "2025-01-01T00:00:00Z", "to": "2025-03-10T00:00:00Z"},
			"2025-01-01T00:00:00Z", "2025-03-10T00:00:00Z", "KID00008"},
		{"themself, own area only", workerToken, "jaipur", map[string]any{}, "2025-03-05T12:00:00Z", "2025-03-12T12:00:00Z", "SB00001"},
	} {
		tc.vars["u"] = globalUserID(worker.ID)
		got, resp := userActivity(t, env, tc.token, tc.vars)
		if resp.Code() != "" {
			t.Fatalf("%s: %+v", tc.name, resp.Errors)
		}
		want := recountActivity(t, fx, worker, tc.area, tc.from, tc.to)
		want.User.Username, want.From, want.To = worker.Username, tc.from, tc.to
		got.LastScan, want.LastScan = nil, nil
		if g, w := got.String(), want.String(); g != w {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, g, w)
		}
		if got, _ := userActivity(t, env, tc.token, tc.vars); got.LastScan == nil || got.LastScan.BagQr != tc.last {
			t.Errorf("%s: lastScan %+v, want %s", tc.name, got.LastScan, tc.last)
		}
	}
	// by construction, for the worker themself (jaipur only) over the default week:
	// today 4 scans, this week 7 (today, Tuesday's 23:59, Monday's two), in range 9 with 8
	// bags; the peak day is today, the busiest hour 08 (local) with 5 scans
	got, _ := userActivity(t, env, workerToken, map[string]any{"u": globalUserID(worker.ID)})
	if got.ScansToday != 4 || got.ScansThisWeek != 7 || got.ScansInRange != 9 || got.UniqueBags != 8 ||
		got.PeakDay == nil || got.PeakDay.Date != "2025-03-12" || got.PeakDay.Count != 4 ||
		got.BusiestHour == nil || got.BusiestHour.Hour != 8 || got.BusiestHour.Count != 5 {
		t.Errorf("the worker's own activity: %s", got)
	}
	// a range without scans has no peak day and no busiest hour
	got, _ = userActivity(t, env, admin, map[string]any{"u": globalUserID(worker.ID), "from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"})
	if got.ScansInRange != 0 || got.PeakDay != nil || got.BusiestHour != nil || got.ScansToday != 5 {
		t.Errorf("an empty range: %+v", *got)
	}
}

func TestUserActivityRolesAndBadInput(t *testing.T) {
	t.Parallel()
	env, _ := newReportEnv(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	worker, workerToken := env.NewUser(t, db.RoleDispatcher, "jaipur")
	biller, billerToken := env.NewUser(t, db.RoleBiller, "")
	_, mateToken := env.NewUser(t, db.RoleDispatcher, "jaipur")
	for _, tc := range []struct {
		name, token string
		vars        map[string]any
		code        string
	}{
		{"another dispatcher of the area", mateToken, map[string]any{"u": globalUserID(worker.ID)}, "FORBIDDEN"},
		{"a biller, of someone else", billerToken, map[string]any{"u": globalUserID(worker.ID)}, "FORBIDDEN"},
		{"a dispatcher, of a biller", workerToken, map[string]any{"u": globalUserID(biller.ID)}, "FORBIDDEN"},
		{"anonymous", "", map[string]any{"u": globalUserID(worker.ID)}, "UNAUTHENTICATED"},
		{"a biller, themself", billerToken, map[string]any{"u": globalUserID(biller.ID)}, ""},
		{"an admin, of a user that does not exist", admin, map[string]any{"u": globalUserID(1 << 40)}, "NOT_FOUND"},
		{"not a user id", admin, map[string]any{"u": "Zm9v"}, "BAD_USER_INPUT"},
		{"from after to", admin, map[string]any{"u": globalUserID(worker.ID), "from": "2025-03-12T00:00:00Z", "to": "2025-03-11T00:00:00Z"}, "BAD_USER_INPUT"},
		{"a range over 366 days", admin, map[string]any{"u": globalUserID(worker.ID), "from": "2023-01-01T00:00:00Z"}, "BAD_USER_INPUT"},
		{"a time without a zone", admin, map[string]any{"u": globalUserID(worker.ID), "from": "2025-03-01T00:00:00"}, "BAD_USER_INPUT"},
	} {
		if _, resp := userActivity(t, env, tc.token, tc.vars); resp.Code() != tc.code {
			t.Errorf("%s: %+v, want %q", tc.name, resp.Errors, tc.code)
		}
	}
}

type auditOut struct {
	ID, At, Action string
	Actor          *struct{ Username string }
	Target         *struct {
		Typename   string `json:"__typename"`
		BillNumber string
		Username   string
	}
	Before, After *string
}

type auditPage struct {
	AuditLog struct {
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
		Edges []struct{ Node auditOut }
	}
}

func auditLog(t *testing.T, env *apitest.Env, token string, vars map[string]any) (*auditPage, *apitest.Response) {
	t.Helper()
	resp := env.Do(t, token, `query($f: AuditFilter, $first: Int, $after: String) { auditLog(filter: $f, first: $first, after: $after) {
		pageInfo { hasNextPage endCursor }
		edges { node { id at action actor { username } before after
			target { __typename ... on Bill { billNumber } ... on User { username } } } } } }`, vars)
	if len(resp.Errors) > 0 {
		return nil, resp
	}
	var out auditPage
	resp.Decode(t, &out)
	return &out, resp
}

func TestBillCompletionIsRecordedAndAudited(t *testing.T) {
	t.Parallel()
	env, fx := newReportEnv(t)
	adminRow, admin := env.NewUser(t, db.RoleAdmin, "")
	billerRow, biller := env.NewUser(t, db.RoleBiller, "")
	fx.parents(t, 82001, 1, "jaipur")
	bill := mustCreateBill(t, env, biller, "AUDIT-BILL-1", 2)
	mustLink(t, env, biller, bill.ID, "SB82001")

	completedBy := func() (status string, by *string, at *string) {
		var out struct {
			Bill struct {
				Status      string
				CompletedAt *string
				CompletedBy *struct{ Username string }
			}
		}
		env.MustDo(t, admin, `query($n: String) { bill(billNumber: $n) { status completedAt completedBy { username } } }`,
			map[string]any{"n": "AUDIT-BILL-1"}, &out)
		if out.Bill.CompletedBy != nil {
			by = &out.Bill.CompletedBy.Username
		}
		return out.Bill.Status, by, out.Bill.CompletedAt
	}
	billMutation(t, env, biller, "completeBill", bill.ID)
	if status, by, at := completedBy(); status != "COMPLETED" || by == nil || *by != billerRow.Username || at == nil {
		t.Errorf("after completeBill by %s: %s, completedBy %v, completedAt %v", billerRow.Username, status, by, at)
	}
	billMutation(t, env, admin, "reopenBill", bill.ID)
	if status, by, at := completedBy(); status != "IN_PROGRESS" || by != nil || at != nil {
		t.Errorf("after reopenBill: %s, completedBy %v, completedAt %v, want neither", status, by, at)
	}
	billMutation(t, env, admin, "completeBill", bill.ID)
	// a refused transition logs nothing
	if r := billMutation(t, env, admin, "completeBill", bill.ID); r.Code() != "CONFLICT" {
		t.Errorf("completing a completed bill: %+v", r.Errors)
	}

	got, resp := auditLog(t, env, admin, map[string]any{"f": map[string]any{"actions": []string{"BILL_COMPLETED", "BILL_REOPENED"}}})
	if resp.Code() != "" {
		t.Fatalf("auditLog: %+v", resp.Errors)
	}
	var seq []string
	for _, e := range got.AuditLog.Edges {
		n := e.Node
		seq = append(seq, n.Action+" by "+n.Actor.Username)
		if n.Target == nil || n.Target.Typename != "Bill" || n.Target.BillNumber != "AUDIT-BILL-1" {
			t.Errorf("%s: target %+v, want the bill", n.Action, n.Target)
		}
	}
	want := []string{"BILL_COMPLETED by " + adminRow.Username, "BILL_REOPENED by " + adminRow.Username, "BILL_COMPLETED by " + billerRow.Username}
	if !slices.Equal(seq, want) {
		t.Errorf("bill entries, newest first: %v, want %v", seq, want)
	}
	if n := got.AuditLog.Edges; len(n) == 3 {
		reopen := n[1].Node
		if reopen.Before == nil || !strings.Contains(*reopen.Before, fmt.Sprintf(`"completedById": %d`, billerRow.ID)) ||
			reopen.After == nil || strings.Contains(*reopen.After, "completedById") {
			t.Errorf("the reopening's before %v and after %v: want who had completed it before, nobody after", deref(reopen.Before), deref(reopen.After))
		}
	}
	if recount := fx.count(t, `SELECT count(*) FROM audit_log WHERE action IN ('BILL_COMPLETED', 'BILL_REOPENED') AND target_type = 'bill'`); recount != 3 {
		t.Errorf("audit rows of the bill: %d, want 3", recount)
	}
}

func TestAuditLogFiltersPagesAndRoles(t *testing.T) {
	t.Parallel()
	env, fx := newReportEnv(t)
	adminRow, admin := env.NewUser(t, db.RoleAdmin, "")
	target, _ := env.NewUser(t, db.RoleBiller, "")
	_, biller := env.NewUser(t, db.RoleBiller, "")
	login(t, env, target.Username, apitest.Password)
	login(t, env, target.Username, "Wrong#Pass1")
	mustSucceed(t, env, admin, `mutation($id: ID!) { updateUser(id: $id, input: {email: "t@audit.test"}) { id } }`,
		map[string]any{"id": globalUserID(target.ID)})

	// every entry, paged two at a time, against the table
	var ids []string
	after := ""
	for range 50 {
		vars := map[string]any{"first": 2}
		if after != "" {
			vars["after"] = after
		}
		page, resp := auditLog(t, env, admin, vars)
		if resp.Code() != "" {
			t.Fatalf("auditLog: %+v", resp.Errors)
		}
		for _, e := range page.AuditLog.Edges {
			ids = append(ids, e.Node.Action)
		}
		if !page.AuditLog.PageInfo.HasNextPage {
			break
		}
		after = page.AuditLog.PageInfo.EndCursor
	}
	var want []string
	rows, err := fx.db.Query(`SELECT action FROM audit_log ORDER BY id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		want = append(want, a)
	}
	rows.Close()
	if !slices.Equal(ids, want) || len(want) < 6 {
		t.Errorf("the whole log paged: %v, want %v", ids, want)
	}

	for _, tc := range []struct {
		name   string
		filter map[string]any
		want   string // SQL WHERE of the recount
	}{
		{"about the user", map[string]any{"targetId": globalUserID(target.ID)},
			fmt.Sprintf(`target_type = 'user' AND target_id = %d`, target.ID)},
		{"by the admin", map[string]any{"actorId": globalUserID(adminRow.ID)}, fmt.Sprintf(`actor_id = %d`, adminRow.ID)},
		{"logins", map[string]any{"actions": []string{"LOGIN", "LOGIN_FAILED"}}, `action IN ('LOGIN', 'LOGIN_FAILED')`},
		{"in a window", map[string]any{"after": "2000-01-01T00:00:00Z", "before": "2001-01-01T00:00:00Z"}, `false`},
	} {
		page, resp := auditLog(t, env, admin, map[string]any{"f": tc.filter, "first": 100})
		if resp.Code() != "" {
			t.Fatalf("%s: %+v", tc.name, resp.Errors)
		}
		if n := fx.count(t, `SELECT count(*) FROM audit_log WHERE `+tc.want); len(page.AuditLog.Edges) != n {
			t.Errorf("%s: %d entries, recount %d", tc.name, len(page.AuditLog.Edges), n)
		}
	}
	page, _ := auditLog(t, env, admin, map[string]any{"f": map[string]any{"targetId": globalUserID(target.ID), "actions": []string{"USER_UPDATED"}}})
	if e := page.AuditLog.Edges; len(e) != 1 || e[0].Node.Target == nil || e[0].Node.Target.Username != target.Username ||
		e[0].Node.Actor == nil || e[0].Node.Actor.Username != adminRow.Username {
		t.Errorf("the user update: %+v", e)
	}

	for _, tc := range []struct {
		name, token string
		vars        map[string]any
		code        string
	}{
		{"a biller", biller, nil, "FORBIDDEN"},
		{"anonymous", "", nil, "UNAUTHENTICATED"},
		{"first over 100", admin, map[string]any{"first": 101}, "BAD_USER_INPUT"},
		{"a bad cursor", admin, map[string]any{"after": "bm9wZQ"}, "BAD_USER_INPUT"},
		{"a bag as target", admin, map[string]any{"f": map[string]any{"targetId": "QmFnOjE"}}, "BAD_USER_INPUT"},
		{"a bill as actor", admin, map[string]any{"f": map[string]any{"actorId": "QmlsbDox"}}, "BAD_USER_INPUT"},
		{"an unknown action", admin, map[string]any{"f": map[string]any{"actions": []string{"NOPE"}}}, "BAD_USER_INPUT"},
	} {
		if _, resp := auditLog(t, env, tc.token, tc.vars); resp.Code() != tc.code {
			t.Errorf("%s: %+v, want %s", tc.name, resp.Errors, tc.code)
		}
	}
}

// sameInstant reports whether two RFC 3339 times name the same instant, whatever their zones.
func sameInstant(a, b string) bool {
	x, errX := time.Parse(time.RFC3339Nano, a)
	y, errY := time.Parse(time.RFC3339Nano, b)
	return errX == nil && errY == nil && x.Equal(y)
}
