package resolvers_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// Parent label series through the API (issue 12, SPEC "Bags and QR codes"): an admin adds a
// series and its QRs scan as parents at once, on every instance; a series that overlaps one
// in use or would turn an existing child into a parent is refused, also against a child scan
// racing it; only admins see or add series.

type labelSeriesOut struct {
	Prefix    string
	Digits    int
	Example   string
	CreatedBy *struct{ Username string }
}

const labelSeriesFields = `prefix digits example createdBy { username }`

func createLabelSeries(t *testing.T, env *apitest.Env, token, prefix string, digits int) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($p: String!, $d: Int!) { createLabelSeries(prefix: $p, digits: $d) { `+labelSeriesFields+` } }`,
		map[string]any{"p": prefix, "d": digits})
}

func listLabelSeries(t *testing.T, env *apitest.Env, token string) []labelSeriesOut {
	t.Helper()
	var out struct{ LabelSeries []labelSeriesOut }
	env.MustDo(t, token, `{ labelSeries { `+labelSeriesFields+` } }`, nil, &out)
	return out.LabelSeries
}

func seriesNames(list []labelSeriesOut) string {
	names := make([]string, len(list))
	for i, s := range list {
		names[i] = fmt.Sprintf("%s+%d", s.Prefix, s.Digits)
	}
	return strings.Join(names, ",")
}

func scanParentResponse(t *testing.T, env *apitest.Env, token, qr string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($qr: String!) { scanParent(qr: $qr) { qr type } }`, map[string]any{"qr": qr})
}

func TestCreateLabelSeriesMakesItsQRsParents(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin, token := env.NewUser(t, db.RoleAdmin, "")

	if got := seriesNames(listLabelSeries(t, env, token)); got != "SB+5,M444-+5" {
		t.Fatalf("label series of a new database: %s, want the defaults SB+5,M444-+5", got)
	}
	// before the series exists, SB + 7 digits is a child label
	res := scanParentResponse(t, env, token, "SB0000001")
	if res.Code() != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "SB + 5 digits") {
		t.Fatalf("scanParent SB0000001 before its series: %+v, want BAD_USER_INPUT naming the parent formats", res.Errors)
	}

	var created struct{ CreateLabelSeries labelSeriesOut }
	createLabelSeries(t, env, token, " sb ", 7).Decode(t, &created)
	got := created.CreateLabelSeries
	if got.Prefix != "SB" || got.Digits != 7 || got.Example != "SB0000001" || got.CreatedBy == nil || got.CreatedBy.Username != admin.Username {
		t.Fatalf("createLabelSeries = %+v, want SB + 7 digits by %s", got, admin.Username)
	}
	if names := seriesNames(listLabelSeries(t, env, token)); names != "SB+5,M444-+5,SB+7" {
		t.Errorf("label series after adding SB + 7: %s", names)
	}

	if bag := scanParent(t, env, token, "sb0000001"); bag.QR != "SB0000001" || bag.Type != "PARENT" {
		t.Fatalf("scanParent of the new series = %+v, want parent SB0000001", bag)
	}
	// the old series still scan, and a QR of the new series is no child any more
	scanParent(t, env, token, "SB00001")
	result := scanChildren(t, env, token, "SB00001", "SB0000002", "C0000001")
	if codes := rejectionCodes(result); codes["SB0000002"] != "IS_PARENT" || len(result.Linked) != 1 {
		t.Errorf("scanChildren with a QR of the new series: linked %+v, rejected %v; want C0000001 linked, SB0000002 IS_PARENT", result.Linked, codes)
	}
	res = scanParentResponse(t, env, token, "SB000000X")
	if res.Code() != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "SB + 7 digits (SB0000001)") {
		t.Errorf("a malformed QR: %+v, want BAD_USER_INPUT naming the new series too", res.Errors)
	}
}

func TestCreateLabelSeriesRefusals(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	scanParent(t, env, token, "SB00001")
	scanChildren(t, env, token, "SB00001", "AB123456")

	for _, tc := range []struct {
		prefix string
		digits int
		code   string
		says   string
	}{
		{"", 5, "BAD_USER_INPUT", "prefix is empty"},
		{"44", 5, "BAD_USER_INPUT", "start with a letter"},
		{"S B", 5, "BAD_USER_INPUT", "only letters A-Z, digits and hyphens"},
		{"SB", 2, "BAD_USER_INPUT", "3 to 15"},
		{"ABCDEFGHIJ", 11, "BAD_USER_INPUT", "at most 20"},
		{"sb", 5, "CONFLICT", "overlaps the existing series SB + 5 digits"},
		{"SB1", 4, "CONFLICT", "overlaps the existing series SB + 5 digits"},
		{"M", 9, "", ""}, // M444- has a hyphen: M + 9 digits shares no QR with it
		{"M4", 8, "CONFLICT", "overlaps the existing series M + 9 digits"},
		{"AB", 6, "CONFLICT", "would turn the existing child bag AB123456 into a parent QR"},
		{"AB1", 5, "CONFLICT", "AB123456"},
		{"AB", 7, "", ""}, // no child of that length
	} {
		res := createLabelSeries(t, env, token, tc.prefix, tc.digits)
		if tc.code == "" {
			if len(res.Errors) > 0 {
				t.Errorf("createLabelSeries(%q, %d): %+v, want it created", tc.prefix, tc.digits, res.Errors)
			}
			continue
		}
		if res.Code() != tc.code || !strings.Contains(res.Errors[0].Message, tc.says) {
			t.Errorf("createLabelSeries(%q, %d): %+v, want %s saying %q", tc.prefix, tc.digits, res.Errors, tc.code, tc.says)
		}
	}
	if names := seriesNames(listLabelSeries(t, env, token)); names != "SB+5,M444-+5,M+9,AB+7" {
		t.Errorf("label series after the refusals: %s", names)
	}
	// the child the refused series would have taken is still a child
	result := scanChildren(t, env, token, "SB00001", "AB123456")
	if len(result.AlreadyLinked) != 1 {
		t.Errorf("AB123456 after the refused series: %+v, want it still linked as a child", result)
	}
}

func TestLabelSeriesAreForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, "jaipur")
	for name, token := range map[string]string{"biller": biller, "dispatcher": dispatcher} {
		if res := env.Do(t, token, `{ labelSeries { prefix } }`, nil); res.Code() != "FORBIDDEN" {
			t.Errorf("%s: labelSeries: %+v, want FORBIDDEN", name, res.Errors)
		}
		if res := createLabelSeries(t, env, token, "SB", 7); res.Code() != "FORBIDDEN" {
			t.Errorf("%s: createLabelSeries: %+v, want FORBIDDEN", name, res.Errors)
		}
	}
	if res := createLabelSeries(t, env, "", "SB", 7); res.Code() != "UNAUTHENTICATED" {
		t.Errorf("anonymous createLabelSeries: %+v, want UNAUTHENTICATED", res.Errors)
	}
	var n int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM label_series`).Scan(&n); err != nil || n != 2 {
		t.Errorf("label series after the refused calls: %d (%v), want the 2 defaults", n, err)
	}
}

// A series added through one instance classifies scans on another that had read the series
// before (its cache is told by the NOTIFY of migration 00014).
func TestLabelSeriesReachesEveryInstance(t *testing.T) {
	t.Parallel()
	first := apitest.New(t)
	second := apitest.NewOn(t, first.DatabaseURL)
	_, token := first.NewUser(t, db.RoleAdmin, "")
	scanParent(t, second, token, "SB00001") // the second instance now holds the defaults
	if res := scanParentResponse(t, second, token, "SB0000001"); res.Code() != "BAD_USER_INPUT" {
		t.Fatalf("second instance before the series: %+v, want BAD_USER_INPUT", res.Errors)
	}

	createLabelSeries(t, first, token, "SB", 7).Decode(t, &struct{}{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := scanParentResponse(t, second, token, "SB0000001")
		if len(res.Errors) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second instance still refuses SB0000001 after the series was added: %+v", res.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A series and a child scan of one of its QRs, racing: whichever commits first wins, and no
// child QR ever matches a series (the series change locks out bag writers while it checks).
func TestLabelSeriesRacingChildScans(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	scanParent(t, env, token, "SB00001")
	for i := range 8 {
		prefix := fmt.Sprintf("R%c", 'A'+i)
		child := prefix + "123456"
		var wg sync.WaitGroup
		var series, scan *apitest.Response
		wg.Add(2)
		go func() {
			defer wg.Done()
			series = env.DoNoT(token, createMutation, map[string]any{"p": prefix, "d": 6})
		}()
		go func() {
			defer wg.Done()
			scan = env.DoNoT(token, scanChildrenMutation, map[string]any{"p": "SB00001", "c": []string{child}})
		}()
		wg.Wait()
		if series == nil || scan == nil {
			t.Fatalf("%s: a request failed to complete", prefix)
		}
		var out struct{ ScanChildren scanResult }
		scanErr := scan.DecodeNoT(&out)
		created := len(series.Errors) == 0
		linked := scanErr == nil && len(out.ScanChildren.Linked) == 1
		if created == linked {
			t.Errorf("%s: series created %v (%+v), child linked %v (%v %+v): want exactly one", prefix, created, series.Errors, linked, scanErr, out.ScanChildren.Rejected)
		}
	}
	var clashes int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM bags WHERE type = 'CHILD' AND tt_parent_qr(qr)`).Scan(&clashes); err != nil || clashes != 0 {
		t.Errorf("%d child bags (%v) have a QR of a label series", clashes, err)
	}
}

const createMutation = `mutation($p: String!, $d: Int!) { createLabelSeries(prefix: $p, digits: $d) { prefix } }`
