package resolvers_test

import (
	"strings"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestIntegrityReportsEveryKindOfDrift(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	_, biller := env.NewUser(t, db.RoleBiller, "")
	fx.parents(t, 1, 2, "bathinda")
	fx.children(t, "SB00001", "BC", 3)
	bill := mustCreateBill(t, env, biller, "B-INT", 2)
	mustLink(t, env, biller, bill.ID, "SB00001", "SB00002")

	type report struct {
		Integrity struct {
			Ok       bool
			Problems []struct{ Kind, EntityID, Detail string }
		}
	}
	var clean report
	env.MustDo(t, admin, `{ integrity { ok checkedAt problems { kind entityId detail } } }`, nil, &clean)
	if !clean.Integrity.Ok || len(clean.Integrity.Problems) != 0 {
		t.Fatalf("fresh data: %+v", clean.Integrity)
	}
	if code := env.Do(t, biller, `{ integrity { ok } }`, nil).Code(); code != "FORBIDDEN" {
		t.Errorf("biller integrity: code %q, want FORBIDDEN", code)
	}

	// Drift that no API path can cause, written behind the triggers' backs.
	fx.exec(t, `UPDATE bags SET capacity = 2, child_count = 2 WHERE qr = 'SB00001'`)
	fx.exec(t, `UPDATE stat_counters SET scans = scans + 7
		WHERE ctid = (SELECT ctid FROM stat_counters WHERE area_id = (SELECT id FROM areas WHERE code = 'bathinda') LIMIT 1)`)
	fx.exec(t, `ALTER TABLE bills DROP CONSTRAINT bills_parent_count_range`)
	fx.exec(t, `UPDATE bills SET capacity = 1, child_bag_count = 99 WHERE bill_number = 'B-INT'`)
	fx.exec(t, `UPDATE bags SET billed = false WHERE qr = 'SB00002'`)
	// a bag's references are triggers' work since migration 00023 (no foreign keys): with
	// triggers off, a child names an area and a creator that do not exist
	fx.exec(t, `BEGIN; SET LOCAL session_replication_role = replica;
		UPDATE bags SET area_id = 987654, created_by = 876543 WHERE qr = (SELECT min(qr) FROM bags WHERE type = 'CHILD'); COMMIT`)

	var drifted report
	env.MustDo(t, admin, `{ integrity { ok problems { kind entityId detail } } }`, nil, &drifted)
	kinds := map[string]string{}
	for _, p := range drifted.Integrity.Problems {
		kinds[p.Kind] += p.Detail + "; "
		if p.EntityID == "" || strings.Contains(p.EntityID, ":") {
			t.Errorf("entityId %q is not opaque", p.EntityID)
		}
	}
	if drifted.Integrity.Ok {
		t.Error("ok with drift")
	}
	if !strings.Contains(kinds["STATS_COUNTER_MISMATCH"], "billed parents: counter says 2, recount says 1") {
		t.Errorf("the unmarked parent is not counted out: %q", kinds["STATS_COUNTER_MISMATCH"])
	}
	for kind, detail := range map[string]string{
		"CHILD_COUNT_MISMATCH":   "child_count is 2 but it has 3 children",
		"PARENT_OVER_CAPACITY":   "has 3 children, capacity 2",
		"BILL_COUNTER_MISMATCH":  "childBagCount is 99 but they hold 3 children",
		"BILL_OVER_CAPACITY":     "has 2 parents linked, capacity 1",
		"STATS_COUNTER_MISMATCH": "scans: counter says 9, recount says 2",
		"BILLED_FLAG_MISMATCH":   "parent SB00002 is on bill",
		"BROKEN_REFERENCE":       "names area 987654, which does not exist; bag BC",
	} {
		if !strings.Contains(kinds[kind], detail) {
			t.Errorf("%s: %q does not contain %q", kind, kinds[kind], detail)
		}
	}
}
