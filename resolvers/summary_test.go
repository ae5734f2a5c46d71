package resolvers_test

import (
	"fmt"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The fixed "now" of the summary tests: 17:30 in Asia/Kolkata, whose business day began at
// 2025-03-09T18:30Z.
var summaryNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func newSummaryEnv(t *testing.T) (*apitest.Env, *fixture) {
	env := apitest.New(t, func(o *app.Options) { o.Resolvers.Now = func() time.Time { return summaryNow } })
	return env, newFixture(t, env)
}

// scanAt logs a scan at a fixed time for the user in the area.
func (f *fixture) scanAt(t *testing.T, kind, at, area string, user *db.User) {
	t.Helper()
	f.exec(t, `INSERT INTO scans (kind, at, bag_qr, user_id, area_id)
		VALUES ($1, $2, 'SB00001', $3, (SELECT id FROM areas WHERE code = $4))`, kind, at, user.ID, area)
}

type aggregate struct {
	Key   string
	Count int
}

func scanSummary(t *testing.T, env *apitest.Env, token string, vars map[string]any) (map[string]int, *apitest.Response) {
	t.Helper()
	resp := env.Do(t, token, `query($g: ScanGrouping!, $from: Time, $to: Time, $area: String) {
		scanSummary(groupBy: $g, from: $from, to: $to, areaCode: $area) { key count } }`, vars)
	var out struct{ ScanSummary []aggregate }
	if len(resp.Errors) > 0 {
		return nil, resp
	}
	resp.Decode(t, &out)
	got := map[string]int{}
	for _, a := range out.ScanSummary {
		got[a.Key] = a.Count
	}
	return got, resp
}

func TestScanSummaryAgainstHandCountedFixture(t *testing.T) {
	t.Parallel()
	env, fx := newSummaryEnv(t)
	userA, admin := env.NewUser(t, db.RoleAdmin, "")
	userB, _ := env.NewUser(t, db.RoleBiller, "")
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	fx.scanAt(t, "CHILD_LINKED", "2025-03-09T18:29:00Z", "jaipur", userA) // 23:59 on the 9th in Kolkata
	fx.scanAt(t, "CHILD_LINKED", "2025-03-09T18:31:00Z", "jaipur", userA) // 00:01 on the 10th
	fx.scanAt(t, "PARENT_SCANNED", "2025-03-10T06:00:00Z", "hisar", userB)
	fx.scanAt(t, "BILL_LINKED", "2025-03-10T11:59:00Z", "jaipur", userB)
	fx.scanAt(t, "PARENT_SCANNED", "2025-03-01T00:00:00Z", "jaipur", userA) // before the default 7 days

	for _, tc := range []struct {
		token string
		vars  map[string]any
		want  map[string]int
	}{
		{admin, map[string]any{"g": "DAY"}, map[string]int{"2025-03-09": 1, "2025-03-10": 3}},
		{admin, map[string]any{"g": "HOUR"}, map[string]int{"2025-03-09T23": 1, "2025-03-10T00": 1, "2025-03-10T11": 1, "2025-03-10T17": 1}},
		{admin, map[string]any{"g": "KIND"}, map[string]int{"CHILD_LINKED": 2, "PARENT_SCANNED": 1, "BILL_LINKED": 1}},
		{admin, map[string]any{"g": "AREA"}, map[string]int{"jaipur": 3, "hisar": 1}},
		{admin, map[string]any{"g": "USER"}, map[string]int{userA.Username: 2, userB.Username: 2}},
		{admin, map[string]any{"g": "AREA", "area": "hisar"}, map[string]int{"hisar": 1}},
		{admin, map[string]any{"g": "KIND", "from": "2025-03-09T18:30:00Z", "to": "2025-03-10T18:30:00Z"},
			map[string]int{"CHILD_LINKED": 1, "PARENT_SCANNED": 1, "BILL_LINKED": 1}},
		{admin, map[string]any{"g": "DAY", "from": "2025-02-01T00:00:00Z"}, map[string]int{"2025-03-01": 1, "2025-03-09": 1, "2025-03-10": 3}},
		{jaipur, map[string]any{"g": "DAY"}, map[string]int{"2025-03-09": 1, "2025-03-10": 2}},
		// windows whose edges cut quarter hours: whole quarters come from scan_buckets, the
		// ragged edges from the log, and no scan is counted twice or lost
		{admin, map[string]any{"g": "DAY", "from": "2025-03-09T18:29:30Z", "to": "2025-03-10T11:59:30Z"}, map[string]int{"2025-03-10": 3}},
		{admin, map[string]any{"g": "DAY", "from": "2025-03-09T18:28:00Z", "to": "2025-03-10T11:58:00Z"}, map[string]int{"2025-03-09": 1, "2025-03-10": 2}},
		{admin, map[string]any{"g": "HOUR", "from": "2025-03-10T11:50:00Z", "to": "2025-03-10T11:59:30Z"}, map[string]int{"2025-03-10T17": 1}},
		{admin, map[string]any{"g": "HOUR", "from": "2025-03-10T11:59:30Z", "to": "2025-03-10T12:00:00Z"}, map[string]int{}},
		{admin, map[string]any{"g": "AREA", "from": "2025-03-09T18:29:00Z", "to": "2025-03-10T06:00:01Z"}, map[string]int{"jaipur": 2, "hisar": 1}},
		{admin, map[string]any{"g": "USER", "from": "2025-03-09T18:30:00Z", "to": "2025-03-10T11:59:30Z"}, map[string]int{userA.Username: 1, userB.Username: 2}},
		{jaipur, map[string]any{"g": "AREA", "area": "jaipur"}, map[string]int{"jaipur": 3}},
	} {
		got, resp := scanSummary(t, env, tc.token, tc.vars)
		if resp.Code() != "" || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("scanSummary%v = %v (errors %+v), want %v", tc.vars, got, resp.Errors, tc.want)
		}
	}
	for _, tc := range []struct {
		token string
		vars  map[string]any
		code  string
	}{
		{jaipur, map[string]any{"g": "DAY", "area": "hisar"}, "FORBIDDEN"},
		{admin, map[string]any{"g": "DAY", "area": "atlantis"}, "BAD_USER_INPUT"},
		{admin, map[string]any{"g": "DAY", "from": "2025-03-10T00:00:00Z", "to": "2025-03-10T00:00:00Z"}, "BAD_USER_INPUT"},
		{admin, map[string]any{"g": "DAY", "from": "2025-03-11T00:00:00Z", "to": "2025-03-10T00:00:00Z"}, "BAD_USER_INPUT"},
		{admin, map[string]any{"g": "DAY", "from": "2024-01-01T00:00:00Z", "to": "2025-03-10T00:00:00Z"}, "BAD_USER_INPUT"},
	} {
		if _, resp := scanSummary(t, env, tc.token, tc.vars); resp.Code() != tc.code {
			t.Errorf("scanSummary%v: code %q, want %s", tc.vars, resp.Code(), tc.code)
		}
	}
}

func TestStatsFromCountersWithBusinessDay(t *testing.T) {
	t.Parallel()
	env, fx := newSummaryEnv(t)
	admin, adminToken := env.NewUser(t, db.RoleAdmin, "")
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	fx.parents(t, 1, 3, "jaipur")
	fx.parents(t, 50, 1, "hisar")
	fx.children(t, "SB00001", "JC", 4)
	fx.children(t, "SB00050", "HC", 2)
	fx.scanAt(t, "CHILD_LINKED", "2025-03-09T18:29:00Z", "jaipur", admin) // yesterday in Kolkata
	fx.scanAt(t, "CHILD_LINKED", "2025-03-09T18:31:00Z", "jaipur", admin) // today
	fx.scanAt(t, "PARENT_SCANNED", "2025-03-10T06:00:00Z", "hisar", admin)
	b := mustCreateBill(t, env, biller, "B-ST-1", 5)
	mustCreateBill(t, env, biller, "B-ST-2", 5)
	mustLink(t, env, biller, b.ID, "SB00001") // one BILL_LINKED scan, logged at the real now (not today in the fixed clock)

	type stats struct{ ParentBags, ChildBags, Bills, OpenBills, InProgressBills, CompletedBills, TotalScans, ScansToday, Users int }
	read := func(token string, area any) (stats, string) {
		var out struct{ Stats stats }
		resp := env.Do(t, token, `query($a: String) { stats(areaCode: $a) { parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users } }`,
			map[string]any{"a": area})
		if len(resp.Errors) > 0 {
			return stats{}, resp.Code()
		}
		resp.Decode(t, &out)
		return out.Stats, ""
	}
	for _, tc := range []struct {
		token string
		area  any
		want  stats
	}{
		{adminToken, nil, stats{4, 6, 2, 1, 1, 0, 4, 2, 3}},
		{adminToken, "hisar", stats{1, 2, 2, 1, 1, 0, 1, 1, 0}},
		{jaipur, nil, stats{3, 4, 2, 1, 1, 0, 3, 1, 1}},
		{jaipur, "jaipur", stats{3, 4, 2, 1, 1, 0, 3, 1, 1}},
	} {
		if got, code := read(tc.token, tc.area); code != "" || got != tc.want {
			t.Errorf("stats(%v) = %+v (code %q), want %+v", tc.area, got, code, tc.want)
		}
	}
	if _, code := read(jaipur, "hisar"); code != "FORBIDDEN" {
		t.Errorf("dispatcher stats of another area: code %q, want FORBIDDEN", code)
	}
}

func TestBillSummaryAgainstHandCountedFixture(t *testing.T) {
	t.Parallel()
	env, fx := newSummaryEnv(t)
	biller, billerToken := env.NewUser(t, db.RoleBiller, "")
	other, otherToken := env.NewUser(t, db.RoleBiller, "")
	fx.parents(t, 1, 1, "raipur")
	fx.children(t, "SB00001", "RC", 3)
	s1 := mustCreateBill(t, env, billerToken, "B-S1", 10)
	mustLink(t, env, billerToken, s1.ID, "SB00001")
	billMutation(t, env, billerToken, "completeBill", s1.ID).Decode(t, &struct{}{})
	mustCreateBill(t, env, billerToken, "B-S2", 5)
	mustCreateBill(t, env, otherToken, "B-S3", 2)
	mustCreateBill(t, env, otherToken, "B-OLD", 2)
	fx.exec(t, `UPDATE bills SET created_at = '2025-03-09T18:29:00Z' WHERE bill_number = 'B-S1'`)
	fx.exec(t, `UPDATE bills SET created_at = '2025-03-09T18:31:00Z' WHERE bill_number = 'B-S2'`)
	fx.exec(t, `UPDATE bills SET created_at = '2025-03-10T10:00:00Z', destination = NULL WHERE bill_number = 'B-S3'`)
	fx.exec(t, `UPDATE bills SET created_at = '2025-01-01T00:00:00Z' WHERE bill_number = 'B-OLD'`)

	type agg struct {
		Key                                          string
		Bills, ParentBags, ChildBags, CompletedBills int
		TotalWeightKg, ExpectedWeightKg              float64
	}
	summary := func(group string) map[string]agg {
		var out struct{ BillSummary []agg }
		env.MustDo(t, billerToken, `query($g: BillGrouping!) { billSummary(groupBy: $g) {
			key bills parentBags childBags completedBills totalWeightKg expectedWeightKg } }`, map[string]any{"g": group}, &out)
		got := map[string]agg{}
		for _, a := range out.BillSummary {
			got[a.Key] = a
		}
		return got
	}
	for group, want := range map[string]map[string]agg{
		"STATUS": {
			"COMPLETED": {"COMPLETED", 1, 1, 3, 1, 3, 300},
			"OPEN":      {"OPEN", 2, 0, 0, 0, 0, 210},
		},
		"DAY": {
			"2025-03-09": {"2025-03-09", 1, 1, 3, 1, 3, 300},
			"2025-03-10": {"2025-03-10", 2, 0, 0, 0, 0, 210},
		},
		"DESTINATION": {
			"Delhi Mandi":      {"Delhi Mandi", 2, 1, 3, 1, 3, 450},
			"(no destination)": {"(no destination)", 1, 0, 0, 0, 0, 60},
		},
		"USER": {
			biller.Username: {biller.Username, 2, 1, 3, 1, 3, 450},
			other.Username:  {other.Username, 1, 0, 0, 0, 0, 60},
		},
	} {
		if got := summary(group); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("billSummary(%s) = %+v, want %+v", group, got, want)
		}
	}
	if code := env.Do(t, billerToken, `{ billSummary(groupBy: DAY, from: "2025-03-10T00:00:00Z", to: "2025-03-09T00:00:00Z") { key } }`, nil).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("billSummary with from after to: code %q", code)
	}
}
