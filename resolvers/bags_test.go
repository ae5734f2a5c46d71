package resolvers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

type bagJSON struct {
	ID         string
	QR         string
	Type       string
	Status     string
	ChildCount int
	WeightKg   float64
	Area       *struct{ Code string }
}

type scanResult struct {
	Parent        bagJSON
	Linked        []bagJSON
	AlreadyLinked []bagJSON
	Rejected      []struct{ QR, Code, Message string }
}

const scanChildrenMutation = `mutation($p: String!, $c: [String!]!) {
	scanChildren(parentQr: $p, childQrs: $c) {
		parent { id qr status childCount weightKg area { code } }
		linked { qr type status }
		alreadyLinked { qr }
		rejected { qr code message }
	}
}`

func scanParent(t *testing.T, env *apitest.Env, token, qr string) bagJSON {
	t.Helper()
	var got struct{ ScanParent bagJSON }
	env.MustDo(t, token, `mutation($qr: String!) { scanParent(qr: $qr) { id qr type status childCount area { code } } }`,
		map[string]any{"qr": qr}, &got)
	return got.ScanParent
}

func scanChildren(t *testing.T, env *apitest.Env, token, parent string, children ...string) scanResult {
	t.Helper()
	var got struct{ ScanChildren scanResult }
	env.MustDo(t, token, scanChildrenMutation, map[string]any{"p": parent, "c": children}, &got)
	return got.ScanChildren
}

func rejectionCodes(r scanResult) map[string]string {
	codes := map[string]string{}
	for _, rej := range r.Rejected {
		codes[rej.QR] = rej.Code
	}
	return codes
}

func countScans(t *testing.T, env *apitest.Env, kind string) int {
	t.Helper()
	var n int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM scans WHERE kind = $1`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestScanParentRegistersAndLogs(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
	bag := scanParent(t, env, token, "  sb00860\r\n")
	if bag.QR != "SB00860" || bag.Type != "PARENT" || bag.Status != "PENDING" || bag.Area == nil || bag.Area.Code != "jaipur" {
		t.Errorf("scanParent = %+v", bag)
	}
	again := scanParent(t, env, token, "SB00860")
	if again.ID != bag.ID {
		t.Errorf("scanning a known parent registered another bag: %s vs %s", again.ID, bag.ID)
	}
	if n := countScans(t, env, "PARENT_SCANNED"); n != 2 {
		t.Errorf("PARENT_SCANNED logged %d times, want 2", n)
	}
	for qr, code := range map[string]string{"0016586": "BAD_USER_INPUT", "SB1": "BAD_USER_INPUT", "": "BAD_USER_INPUT"} {
		resp := env.Do(t, token, `mutation($qr: String!) { scanParent(qr: $qr) { id } }`, map[string]any{"qr": qr})
		if resp.Code() != code {
			t.Errorf("scanParent(%q): %q, want %s", qr, resp.Code(), code)
		}
	}
}

func TestScanChildrenRejectionsAndRetry(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
	scanParent(t, env, token, "SB10001")
	scanParent(t, env, token, "SB10002")
	scanChildren(t, env, token, "SB10002", "OTHER001")

	noisy := []string{"  label no.:0016586\r", "c\u200b0001", "LABEL NO.0016587", "bad qr!", "SB10002", "c0001", "OTHER001"}
	first := scanChildren(t, env, token, "sb10001", noisy...)
	var linked []string
	for _, b := range first.Linked {
		linked = append(linked, b.QR)
	}
	if strings.Join(linked, ",") != "0016586,C0001,0016587" {
		t.Errorf("linked %v, want the three valid children in scan order", linked)
	}
	want := map[string]string{"BAD QR!": "INVALID_QR", "SB10002": "IS_PARENT", "C0001": "DUPLICATE_IN_BATCH", "OTHER001": "LINKED_TO_OTHER_PARENT"}
	if got := rejectionCodes(first); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejections %v, want %v", got, want)
	}
	for _, rej := range first.Rejected {
		if rej.Code == "LINKED_TO_OTHER_PARENT" && !strings.Contains(rej.Message, "SB10002") {
			t.Errorf("LINKED_TO_OTHER_PARENT message %q does not name the parent", rej.Message)
		}
	}
	if first.Parent.ChildCount != 3 || first.Parent.Status != "IN_PROGRESS" || first.Parent.WeightKg != 3 {
		t.Errorf("parent after the batch: %+v", first.Parent)
	}

	logged := countScans(t, env, "CHILD_LINKED")
	retry := scanChildren(t, env, token, "SB10001", noisy...)
	if len(retry.Linked) != 0 || len(retry.AlreadyLinked) != 3 || retry.Parent.ChildCount != 3 {
		t.Errorf("retry changed something: linked %d, already %d, count %d", len(retry.Linked), len(retry.AlreadyLinked), retry.Parent.ChildCount)
	}
	if n := countScans(t, env, "CHILD_LINKED"); n != logged {
		t.Errorf("retry logged %d more CHILD_LINKED", n-logged)
	}
}

func TestParentFullAndBatchLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleBiller, "")
	scanParent(t, env, token, "M444-00001")
	var batch []string
	for i := range 30 {
		batch = append(batch, fmt.Sprintf("FULL%04d", i))
	}
	full := scanChildren(t, env, token, "M444-00001", batch[:28]...)
	if full.Parent.Status != "IN_PROGRESS" {
		t.Errorf("28 children: status %s", full.Parent.Status)
	}
	last := scanChildren(t, env, token, "M444-00001", "FULL9998", "FULL9999", "FULL9997")
	if len(last.Linked) != 2 || rejectionCodes(last)["FULL9997"] != "PARENT_FULL" || last.Parent.Status != "COMPLETED" {
		t.Errorf("filling up: %+v", last)
	}
	over := env.Do(t, token, scanChildrenMutation, map[string]any{"p": "M444-00001", "c": append(batch, "X1234")})
	if over.Code() != "BAD_USER_INPUT" || !strings.Contains(over.Errors[0].Message, "at most 30") {
		t.Errorf("31 QRs in one call: %v", over.Errors)
	}
	if code := env.Do(t, token, scanChildrenMutation, map[string]any{"p": "SB99999", "c": []string{"ABCD"}}).Code(); code != "NOT_FOUND" {
		t.Errorf("unknown parent: %q, want NOT_FOUND", code)
	}
}

func TestUnlinkUndoAndDelete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleBiller, "")
	scanParent(t, env, token, "SB20001")
	scanChildren(t, env, token, "SB20001", "KID0001", "KID0002", "KID0003")

	var unlinked struct{ UnlinkChild bagJSON }
	env.MustDo(t, token, `mutation { unlinkChild(childQr: "kid0001") { qr childCount } }`, nil, &unlinked)
	if unlinked.UnlinkChild.QR != "SB20001" || unlinked.UnlinkChild.ChildCount != 2 {
		t.Errorf("unlinkChild returned %+v", unlinked.UnlinkChild)
	}
	var gone struct{ Bag *bagJSON }
	env.MustDo(t, token, `{ bag(qr: "KID0001") { qr } }`, nil, &gone)
	if gone.Bag != nil {
		t.Error("an unlinked child still exists")
	}
	var undone struct {
		UndoLastChildScan *struct {
			Parent    bagJSON
			RemovedQR string `json:"removedQr"`
		}
	}
	env.MustDo(t, token, `mutation { undoLastChildScan { parent { qr childCount } removedQr } }`, nil, &undone)
	if u := undone.UndoLastChildScan; u == nil || u.Parent.QR != "SB20001" || u.Parent.ChildCount != 1 || u.RemovedQR != "KID0003" {
		t.Errorf("undo returned %+v, want parent SB20001 with 1 child and removedQr KID0003", u)
	}
	env.MustDo(t, token, `{ bag(qr: "KID0003") { qr } }`, nil, &gone)
	if gone.Bag != nil {
		t.Error("undo did not remove the most recent child (KID0003)")
	}
	if n := countScans(t, env, "CHILD_UNLINKED"); n != 2 {
		t.Errorf("CHILD_UNLINKED logged %d times, want 2", n)
	}

	for _, c := range []struct{ query, code string }{
		{`mutation { unlinkChild(childQr: "SB20001") { id } }`, "BAD_USER_INPUT"},
		{`mutation { unlinkChild(childQr: "NOPE0001") { id } }`, "NOT_FOUND"},
		{`mutation { deleteBag(qr: "?!") }`, "BAD_USER_INPUT"},
		{`mutation { deleteBag(qr: "SB77777") }`, "NOT_FOUND"},
	} {
		if code := env.Do(t, token, c.query, nil).Code(); code != c.code {
			t.Errorf("%s: %q, want %s", c.query, code, c.code)
		}
	}

	// a parent on a bill cannot be deleted
	scanParent(t, env, token, "SB20002")
	mustExec(t, env, `INSERT INTO bills (bill_number, capacity) VALUES ('DEL-1', 5)`)
	mustExec(t, env, `INSERT INTO bill_bags (bag_id, bill_id) SELECT b.id, l.id FROM bags b, bills l WHERE b.qr = 'SB20002' AND l.bill_number = 'DEL-1'`)
	if resp := env.Do(t, token, `mutation { deleteBag(qr: "SB20002") }`, nil); resp.Code() != "CONFLICT" || !strings.Contains(resp.Errors[0].Message, "DEL-1") {
		t.Errorf("deleting a billed parent: %v", resp.Errors)
	}
	var deleted struct{ DeleteBag bool }
	env.MustDo(t, token, `mutation { deleteBag(qr: "SB20001") }`, nil, &deleted)
	if n := countScans(t, env, "BAG_DELETED"); !deleted.DeleteBag || n != 2 {
		t.Errorf("deleting a parent with one child: ok %v, BAG_DELETED rows %d, want 2", deleted.DeleteBag, n)
	}
}

func mustExec(t testing.TB, env *apitest.Env, query string, args ...any) {
	t.Helper()
	if _, err := env.Store.DB().ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestConcurrentScansRespectCapacityAndOneParent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	scanParent(t, env, token, "SB30000")

	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := scanChildrenNoT(env, token, "SB30000", fmt.Sprintf("RACE%04d", 2*g), fmt.Sprintf("RACE%04d", 2*g+1))
			mu.Lock()
			defer mu.Unlock()
			codes["linked"] += len(r.Linked)
			for _, rej := range r.Rejected {
				codes[rej.Code]++
			}
		}()
	}
	wg.Wait()
	if codes["linked"] != 30 || codes["PARENT_FULL"] != 70 || len(codes) != 2 {
		t.Errorf("100 children into one parent from 50 goroutines: %v, want 30 linked and 70 PARENT_FULL", codes)
	}
	var parent struct{ Bag bagJSON }
	env.MustDo(t, token, `{ bag(qr: "SB30000") { childCount status } }`, nil, &parent)
	if parent.Bag.ChildCount != 30 || parent.Bag.Status != "COMPLETED" {
		t.Errorf("parent after the race: %+v", parent.Bag)
	}

	for g := range 50 {
		scanParent(t, env, token, fmt.Sprintf("SB4%04d", g))
	}
	linked := make(chan int, 50)
	for g := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			linked <- len(scanChildrenNoT(env, token, fmt.Sprintf("SB4%04d", g), "CONTESTED1").Linked)
		}()
	}
	wg.Wait()
	close(linked)
	total := 0
	for n := range linked {
		total += n
	}
	var parents int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM bags WHERE qr = 'CONTESTED1'`).Scan(&parents); err != nil {
		t.Fatal(err)
	}
	if total != 1 || parents != 1 {
		t.Errorf("one child scanned into 50 parents at once: linked %d times, %d rows; want 1 and 1", total, parents)
	}
}

// scanChildrenNoT is scanChildren for goroutines: it reports failures in the result.
func scanChildrenNoT(env *apitest.Env, token, parent string, children ...string) scanResult {
	resp := env.DoNoT(token, scanChildrenMutation, map[string]any{"p": parent, "c": children})
	var got struct{ ScanChildren scanResult }
	if err := resp.DecodeNoT(&got); err != nil {
		return scanResult{Rejected: []struct{ QR, Code, Message string }{{Code: "REQUEST_FAILED: " + err.Error()}}}
	}
	return got.ScanChildren
}

// TestBatchesSharingNewChildrenDoNotDeadlock scans the same new child QRs, in opposite
// orders, into different parents at once: one parent gets each child, and no call fails.
func TestBatchesSharingNewChildrenDoNotDeadlock(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	var shared []string
	for i := range 30 {
		shared = append(shared, fmt.Sprintf("SHR%04d", i))
	}
	reversed := slices.Clone(shared)
	slices.Reverse(reversed)
	for round := range 30 {
		a, b := fmt.Sprintf("SB8%02d01", round), fmt.Sprintf("SB8%02d02", round)
		scanParent(t, env, token, a)
		scanParent(t, env, token, b)
		var wg sync.WaitGroup
		results := make([]scanResult, 2)
		for i, call := range []struct {
			parent string
			qrs    []string
		}{{a, shared}, {b, reversed}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = scanChildrenNoT(env, token, call.parent, call.qrs...)
			}()
		}
		wg.Wait()
		linked := len(results[0].Linked) + len(results[1].Linked)
		for _, r := range results {
			for _, rej := range r.Rejected {
				if rej.Code != "LINKED_TO_OTHER_PARENT" {
					t.Fatalf("round %d: rejection %s %s", round, rej.Code, rej.Message)
				}
			}
		}
		if linked != len(shared) {
			t.Fatalf("round %d: %d children linked in all, want %d", round, linked, len(shared))
		}
		mustExec(t, env, `DELETE FROM bags WHERE qr LIKE 'SHR%'`)
	}
}
