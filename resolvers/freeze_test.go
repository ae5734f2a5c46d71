package resolvers_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// A COMPLETED bill is frozen through the API: scanChildren rejects new children of its parents
// per QR with BILL_COMPLETED (already linked ones stay a no-op), the single-bag mutations are
// CONFLICT saying to reopen the bill, nothing is changed or logged, and after reopenBill the
// same calls go through.
func TestCompletedBillFreezesItsParentsThroughTheAPI(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	scanParent(t, env, biller, "SB40001")
	scanParent(t, env, biller, "SB40002")
	scanChildren(t, env, biller, "SB40001", "FRZ0001", "FRZ0002")
	bill := mustCreateBill(t, env, biller, "B-FRZ", 3)
	mustLink(t, env, biller, bill.ID, "SB40001")
	billMutation(t, env, biller, "completeBill", bill.ID).Decode(t, &struct{}{})
	scansBefore := countAllScans(t, env)

	res := scanChildren(t, env, biller, "SB40001", "FRZ0001", "FRZ0003", "SB40002", "FRZ0003")
	if len(res.Linked) != 0 || len(res.AlreadyLinked) != 1 || res.AlreadyLinked[0].QR != "FRZ0001" {
		t.Errorf("scan into a frozen parent: linked %+v, alreadyLinked %+v", res.Linked, res.AlreadyLinked)
	}
	codes := rejectionCodes(res)
	if codes["FRZ0003"] != "BILL_COMPLETED" || codes["SB40002"] != "IS_PARENT" || len(res.Rejected) != 3 {
		t.Errorf("rejections %+v", res.Rejected)
	}
	for _, r := range res.Rejected {
		if r.Code == "BILL_COMPLETED" && !strings.Contains(r.Message, "reopen bill B-FRZ first") {
			t.Errorf("BILL_COMPLETED message %q does not say what to do", r.Message)
		}
	}
	if res.Parent.ChildCount != 2 {
		t.Errorf("frozen parent has %d children, want 2", res.Parent.ChildCount)
	}

	singles := map[string]string{
		"unlinkChild":        `mutation { unlinkChild(childQr: "FRZ0002") { qr } }`,
		"undoLastChildScan":  `mutation { undoLastChildScan { removedQr } }`,
		"deleteBag (child)":  `mutation { deleteBag(qr: "FRZ0001") }`,
		"deleteBag (parent)": `mutation { deleteBag(qr: "SB40001") }`,
	}
	for name, query := range singles {
		resp := env.Do(t, biller, query, nil)
		if resp.Code() != "CONFLICT" || !strings.Contains(resp.Errors[0].Message, "reopen bill B-FRZ first") {
			t.Errorf("%s under a completed bill: %+v, want CONFLICT saying to reopen bill B-FRZ first", name, resp.Errors)
		}
	}
	for name, resp := range map[string]*apitest.Response{
		"linkBagsToBill":    linkBags(t, env, biller, bill.ID, []string{"SB40002"}),
		"unlinkBagFromBill": unlinkBag(t, env, biller, bill.ID, "SB40001"),
	} {
		if resp.Code() != "CONFLICT" || !strings.Contains(resp.Errors[0].Message, "reopen bill B-FRZ first") {
			t.Errorf("%s on a completed bill: %+v", name, resp.Errors)
		}
	}
	if got := billByNumber(t, env, biller, "B-FRZ"); got.Status != "COMPLETED" || got.ParentBagCount != 1 || got.ChildBagCount != 2 || got.TotalWeightKg != 2 {
		t.Errorf("frozen bill changed: %+v", got)
	}
	if n := countAllScans(t, env); n != scansBefore {
		t.Errorf("refused changes logged %d scans", n-scansBefore)
	}

	billMutation(t, env, biller, "reopenBill", bill.ID).Decode(t, &struct{}{})
	if res := scanChildren(t, env, biller, "SB40001", "FRZ0003"); len(res.Linked) != 1 {
		t.Errorf("scan after reopening: %+v", res)
	}
	var undone struct{ UndoLastChildScan struct{ RemovedQR string } }
	env.MustDo(t, biller, `mutation { undoLastChildScan { removedQr } }`, nil, &undone)
	if undone.UndoLastChildScan.RemovedQR != "FRZ0003" {
		t.Errorf("undo after reopening removed %q, want FRZ0003", undone.UndoLastChildScan.RemovedQR)
	}
	env.MustDo(t, biller, `mutation { unlinkChild(childQr: "FRZ0002") { qr } }`, nil, &struct{}{})
	if got := billByNumber(t, env, biller, "B-FRZ"); got.ChildBagCount != 1 {
		t.Errorf("reopened bill has %d children, want 1", got.ChildBagCount)
	}
}

// Scans and unlinks racing completeBill (real goroutines over HTTP, one database): the bill
// completes with whatever was on it at that moment and keeps exactly that, every acknowledged
// link and unlink is in the database, and every BILL_COMPLETED child is not.
func TestScansRacingCompleteBillLeaveItAsCompleted(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	bill := mustCreateBill(t, env, biller, "B-RACE-FRZ", 10)
	parents := make([]string, 6)
	for i := range parents {
		parents[i] = fmt.Sprintf("SB5%04d", i)
		scanParent(t, env, biller, parents[i])
	}
	mustLink(t, env, biller, bill.ID, parents...)

	// 12 x 6 x 2 = 144 children at most: the 6 parents (180 places) never fill up
	const scanners, rounds = 12, 6
	var linked, frozen sync.Map // child QR -> parent QR
	var unlinked sync.Map
	var acknowledged, refused atomic.Int64
	startCompleting := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for g := 0; g < scanners; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			defer once.Do(func() { close(startCompleting) })
			for round := 0; round < rounds; round++ {
				parent := parents[(g+round)%len(parents)]
				kids := []string{fmt.Sprintf("RC%02d%02dA", g, round), fmt.Sprintf("RC%02d%02dB", g, round)}
				var out struct{ ScanChildren scanResult }
				resp := env.DoNoT(biller, scanChildrenMutation, map[string]any{"p": parent, "c": kids})
				if err := resp.DecodeNoT(&out); err != nil {
					t.Errorf("scan: %v", err)
					return
				}
				for _, b := range out.ScanChildren.Linked {
					linked.Store(b.QR, parent)
					acknowledged.Add(1)
				}
				for _, r := range out.ScanChildren.Rejected {
					if r.Code != "BILL_COMPLETED" {
						t.Errorf("scan %s: unexpected rejection %+v", parent, r)
					}
					frozen.Store(r.QR, parent)
					refused.Add(1)
				}
				if acknowledged.Load() >= 30 {
					once.Do(func() { close(startCompleting) })
				}
				if round%3 == 2 && len(out.ScanChildren.Linked) > 0 {
					qr := out.ScanChildren.Linked[0].QR
					resp := env.DoNoT(biller, `mutation($q: String!) { unlinkChild(childQr: $q) { qr } }`, map[string]any{"q": qr})
					switch resp.Code() {
					case "":
						unlinked.Store(qr, true)
					case "CONFLICT":
					default:
						t.Errorf("unlink %s: %+v", qr, resp.Errors)
					}
				}
			}
		}(g)
	}
	<-startCompleting
	var done struct{ CompleteBill billOut }
	if err := env.DoNoT(biller, `mutation($id: ID!) { completeBill(id: $id) { `+billFields+` } }`,
		map[string]any{"id": bill.ID}).DecodeNoT(&done); err != nil {
		t.Fatalf("completeBill: %v", err)
	}
	atCompletion := done.CompleteBill
	wg.Wait()

	after := billByNumber(t, env, biller, "B-RACE-FRZ")
	if after.Status != "COMPLETED" || after.ChildBagCount != atCompletion.ChildBagCount || after.TotalWeightKg != atCompletion.TotalWeightKg ||
		after.ParentBagCount != atCompletion.ParentBagCount {
		t.Errorf("bill at completion %+v, afterwards %+v: a frozen bill changed", atCompletion, *after)
	}
	if inDB := fx.count(t, `SELECT count(*) FROM bags c JOIN bags p ON p.id = c.parent_id WHERE p.qr = ANY($1)`, pqArray(parents)); inDB != after.ChildBagCount {
		t.Errorf("children in the database %d, bill says %d", inDB, after.ChildBagCount)
	}
	linked.Range(func(k, v any) bool {
		_, gone := unlinked.Load(k)
		n := fx.count(t, `SELECT count(*) FROM bags c JOIN bags p ON p.id = c.parent_id WHERE c.qr = $1 AND p.qr = $2`, k, v)
		if (n == 1) == gone {
			t.Errorf("child %s: acknowledged linked (unlinked %v) but %d rows in the database", k, gone, n)
		}
		return true
	})
	frozen.Range(func(k, _ any) bool {
		if n := fx.count(t, `SELECT count(*) FROM bags WHERE qr = $1`, k); n != 0 {
			t.Errorf("child %s was rejected BILL_COMPLETED but exists", k)
		}
		return true
	})
	if acknowledged.Load() < 30 || refused.Load() == 0 {
		t.Errorf("the race proved little: %d links acknowledged, %d refused", acknowledged.Load(), refused.Load())
	}
	var report struct{ Integrity struct{ Ok bool } }
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	env.MustDo(t, admin, `{ integrity { ok } }`, nil, &report)
	if !report.Integrity.Ok {
		t.Error("integrity problems after the race")
	}
}

func countAllScans(t *testing.T, env *apitest.Env) int {
	t.Helper()
	var n int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM scans`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The freeze costs a scan no statement: the batch's one statement locks the parent's bill
// with the parent when it is on one.
func TestFreezeCheckCostsNoStatement(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.DebugSQLCount = true })
	_, biller := env.NewUser(t, db.RoleBiller, "")
	scanParent(t, env, biller, "SB70001")
	scanParent(t, env, biller, "SB70002")
	bill := mustCreateBill(t, env, biller, "B-COST", 2)
	mustLink(t, env, biller, bill.ID, "SB70002")
	scan := func(parent, child string) int {
		return statements(t, env, biller, fmt.Sprintf(`mutation { scanChildren(parentQr: %q, childQrs: [%q, "%s2"]) { linked { qr } } }`, parent, child, child))
	}
	unbilled, billed := scan("SB70001", "COST01"), scan("SB70002", "COST02")
	if billed != unbilled {
		t.Errorf("scanChildren took %d statements on a parent on no bill, %d on a billed one; want as many", unbilled, billed)
	}
	t.Logf("scanChildren statements: %d on a parent on no bill, %d on a billed parent", unbilled, billed)
}
