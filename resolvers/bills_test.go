package resolvers_test

import (
	"context"
	"strings"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestBillInputRules(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")

	for _, tc := range []struct {
		number   string
		capacity int
		code     string
	}{
		{"AB", 5, "BAD_USER_INPUT"},
		{"  ab  ", 5, "BAD_USER_INPUT"},
		{strings.Repeat("X", 51), 5, "BAD_USER_INPUT"},
		{"B-100", 0, "BAD_USER_INPUT"},
		{"B-100", 501, "BAD_USER_INPUT"},
	} {
		if code := createBill(t, env, biller, tc.number, tc.capacity).Code(); code != tc.code {
			t.Errorf("createBill(%q, %d): code %q, want %s", tc.number, tc.capacity, code, tc.code)
		}
	}
	bill := mustCreateBill(t, env, biller, "  b-100 ", 500)
	if bill.BillNumber != "B-100" || bill.Status != "OPEN" || bill.ExpectedWeightKg != 15000 {
		t.Errorf("created bill = %+v", bill)
	}
	if code := createBill(t, env, biller, "b-100", 5).Code(); code != "CONFLICT" {
		t.Errorf("duplicate bill number in another case: code %q, want CONFLICT", code)
	}
	if code := createBill(t, env, biller, "\u200bb-100\u00ad", 5).Code(); code != "CONFLICT" {
		t.Errorf("the bill number with zero-width characters: code %q, want CONFLICT (it looks the same)", code)
	}
	if got := billByNumber(t, env, biller, " b-100"); got == nil || got.ID != bill.ID {
		t.Errorf("bill(billNumber: any case) = %+v", got)
	}
	if got := billByNumber(t, env, biller, "NOPE-1"); got != nil {
		t.Errorf("unknown bill number: %+v, want null", got)
	}
	for _, q := range []string{`{ bill { id } }`, `{ bill(id: "` + bill.ID + `", billNumber: "B-100") { id } }`} {
		if code := env.Do(t, biller, q, nil).Code(); code != "BAD_USER_INPUT" {
			t.Errorf("%s: code %q, want BAD_USER_INPUT", q, code)
		}
	}
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, "jaipur")
	var byID struct{ Bill billOut }
	env.MustDo(t, dispatcher, `query($id: ID) { bill(id: $id) { `+billFields+` } }`, map[string]any{"id": bill.ID}, &byID)
	if byID.Bill.BillNumber != "B-100" {
		t.Errorf("a dispatcher reads bills: %+v", byID.Bill)
	}
	var node struct{ Node struct{ BillNumber string } }
	env.MustDo(t, dispatcher, `query($id: ID!) { node(id: $id) { ... on Bill { billNumber } } }`, map[string]any{"id": bill.ID}, &node)
	if node.Node.BillNumber != "B-100" {
		t.Errorf("node(bill id) = %+v", node)
	}
	if code := createBill(t, env, dispatcher, "B-200", 5).Code(); code != "FORBIDDEN" {
		t.Errorf("dispatcher createBill: code %q, want FORBIDDEN", code)
	}
	if code := env.Do(t, biller, `mutation($id: ID!) { updateBill(id: $id, input: {capacity: 0}) { id } }`,
		map[string]any{"id": bill.ID}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("updateBill capacity 0: code %q", code)
	}
}

func TestBillWorkflowAndRejectionCodes(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	fx.parents(t, 1, 5, "jaipur") // SB00001..SB00005
	fx.children(t, "SB00001", "C1A", 3)
	fx.children(t, "SB00002", "C2A", 30)

	bill := mustCreateBill(t, env, biller, "B-1", 3)
	other := mustCreateBill(t, env, biller, "B-OTHER", 5)
	mustLink(t, env, biller, other.ID, "SB00005")

	res := mustLink(t, env, biller, bill.ID,
		"SB00001", " sb00002\u200b\r", "SB00001", "C1A0001", "SB09999", "not a qr!", "SB00005", "SB00003", "SB00004")
	if len(res.Linked) != 3 || res.Linked[0].QR != "SB00001" || res.Linked[1].QR != "SB00002" || res.Linked[2].QR != "SB00003" {
		t.Errorf("linked = %+v", res.Linked)
	}
	wantCodes := map[string]string{"SB00001": "DUPLICATE_IN_BATCH", "C1A0001": "IS_CHILD", "SB09999": "NOT_FOUND",
		"NOT A QR!": "INVALID_QR", "SB00005": "ON_OTHER_BILL", "SB00004": "BILL_FULL"}
	if len(res.Rejected) != len(wantCodes) {
		t.Errorf("rejected = %+v", res.Rejected)
	}
	for _, r := range res.Rejected {
		if wantCodes[r.QR] != r.Code || r.Message == "" {
			t.Errorf("rejection %+v, want code %s", r, wantCodes[r.QR])
		}
		if r.Code == "ON_OTHER_BILL" && !strings.Contains(r.Message, "B-OTHER") {
			t.Errorf("ON_OTHER_BILL message %q does not name the bill", r.Message)
		}
	}
	if b := res.Bill; b.Status != "IN_PROGRESS" || b.ParentBagCount != 3 || b.ChildBagCount != 33 || b.TotalWeightKg != 33 || b.ExpectedWeightKg != 90 {
		t.Errorf("bill after link = %+v", b)
	}

	again := mustLink(t, env, biller, bill.ID, "SB00001", "SB00002")
	if len(again.AlreadyLinked) != 2 || len(again.Linked) != 0 || len(again.Rejected) != 0 {
		t.Errorf("relinking: %+v", again)
	}
	if n := fx.count(t, `SELECT count(*) FROM scans WHERE kind = 'BILL_LINKED' AND bill_id IS NOT NULL AND area_id = 3`); n != 4 {
		t.Errorf("BILL_LINKED scans = %d, want 4 (a retry logs nothing)", n)
	}

	// Bag.bill through the loader, for parents on this bill, on no bill and (through the
	// store's batch read, as bag(qr) belongs to the scanning branch) for a child.
	var view struct {
		Bill struct {
			ParentBags struct {
				Edges []struct {
					Node struct {
						QR   string
						Bill struct{ BillNumber string }
					}
				}
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
	}
	env.MustDo(t, biller, `query($id: ID) { bill(id: $id) { parentBags(first: 2) { edges { node { qr bill { billNumber } } }
		totalCount pageInfo { hasNextPage endCursor } } } }`, map[string]any{"id": bill.ID}, &view)
	pb := view.Bill.ParentBags
	if len(pb.Edges) != 2 || pb.Edges[0].Node.QR != "SB00001" || pb.Edges[1].Node.Bill.BillNumber != "B-1" ||
		pb.TotalCount != 3 || !pb.PageInfo.HasNextPage {
		t.Errorf("parentBags page 1 = %+v", pb)
	}
	env.MustDo(t, biller, `query($id: ID, $after: String) { bill(id: $id) { parentBags(first: 2, after: $after) { edges { node { qr bill { billNumber } } }
		totalCount pageInfo { hasNextPage endCursor } } } }`, map[string]any{"id": bill.ID, "after": pb.PageInfo.EndCursor}, &view)
	if pb := view.Bill.ParentBags; len(pb.Edges) != 1 || pb.Edges[0].Node.QR != "SB00003" || pb.PageInfo.HasNextPage {
		t.Errorf("parentBags page 2 = %+v", pb)
	}
	childBills, err := env.Store.BillsOfBags(context.Background(), db.System, []int64{childID(t, fx, "C1A0002"), childID(t, fx, "SB00004")})
	if err != nil || len(childBills) != 1 || childBills[0].BillNumber != "B-1" {
		t.Errorf("bills of a child and of an unbilled parent = %+v, %v", childBills, err)
	}

	if code := env.Do(t, biller, `mutation($id: ID!) { updateBill(id: $id, input: {capacity: 2}) { id } }`,
		map[string]any{"id": bill.ID}).Code(); code != "CONFLICT" {
		t.Errorf("capacity below linked: code %q, want CONFLICT", code)
	}
	if code := linkBags(t, env, biller, bill.ID, make101()).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("101 QRs: code %q, want BAD_USER_INPUT", code)
	}

	var done struct{ CompleteBill billOut }
	billMutation(t, env, biller, "completeBill", bill.ID).Decode(t, &done)
	if done.CompleteBill.Status != "COMPLETED" {
		t.Errorf("completed bill = %+v", done.CompleteBill)
	}
	for name, code := range map[string]string{
		"link":     linkBags(t, env, biller, bill.ID, []string{"SB00004"}).Code(),
		"unlink":   unlinkBag(t, env, biller, bill.ID, "SB00001").Code(),
		"complete": billMutation(t, env, biller, "completeBill", bill.ID).Code(),
	} {
		if code != "CONFLICT" {
			t.Errorf("%s on a completed bill: code %q, want CONFLICT", name, code)
		}
	}
	var reopened struct{ ReopenBill billOut }
	billMutation(t, env, biller, "reopenBill", bill.ID).Decode(t, &reopened)
	if reopened.ReopenBill.Status != "IN_PROGRESS" {
		t.Errorf("reopened bill = %+v", reopened.ReopenBill)
	}
	if code := billMutation(t, env, biller, "reopenBill", bill.ID).Code(); code != "CONFLICT" {
		t.Errorf("reopening an open bill: code %q, want CONFLICT", code)
	}

	var un struct{ UnlinkBagFromBill billOut }
	unlinkBag(t, env, biller, bill.ID, " sb00002 ").Decode(t, &un)
	if b := un.UnlinkBagFromBill; b.ParentBagCount != 2 || b.ChildBagCount != 3 {
		t.Errorf("after unlink = %+v", b)
	}
	for qr, want := range map[string]string{"SB00002": "NOT_FOUND", "SB09999": "NOT_FOUND"} {
		if code := unlinkBag(t, env, biller, bill.ID, qr).Code(); code != want {
			t.Errorf("unlink %s: code %q, want %s", qr, code, want)
		}
	}
	if n := fx.count(t, `SELECT count(*) FROM scans WHERE kind = 'BILL_UNLINKED' AND bag_qr = 'SB00002' AND area_id = 3`); n != 1 {
		t.Errorf("BILL_UNLINKED scans = %d, want 1", n)
	}

	empty := mustCreateBill(t, env, biller, "B-EMPTY", 1)
	if code := billMutation(t, env, biller, "completeBill", empty.ID).Code(); code != "CONFLICT" {
		t.Errorf("completing an empty bill: code %q, want CONFLICT", code)
	}

	delete := `mutation($id: ID!) { deleteBill(id: $id) }`
	if code := env.Do(t, biller, delete, map[string]any{"id": bill.ID}).Code(); code != "FORBIDDEN" {
		t.Errorf("biller deleteBill: code %q, want FORBIDDEN", code)
	}
	env.MustDo(t, admin, delete, map[string]any{"id": bill.ID}, &struct{}{})
	if code := env.Do(t, admin, delete, map[string]any{"id": bill.ID}).Code(); code != "NOT_FOUND" {
		t.Errorf("deleting again: code %q, want NOT_FOUND", code)
	}
	if n := fx.count(t, `SELECT count(*) FROM bags WHERE qr IN ('SB00001', 'SB00003') AND id NOT IN (SELECT bag_id FROM bill_bags)`); n != 2 {
		t.Errorf("parents of the deleted bill: %d unbilled, want 2 (they stay)", n)
	}
	relinked := mustLink(t, env, biller, other.ID, "SB00001")
	if len(relinked.Linked) != 1 {
		t.Errorf("a parent of a deleted bill links elsewhere: %+v", relinked)
	}
}

func childID(t *testing.T, fx *fixture, qr string) int64 {
	t.Helper()
	return int64(fx.count(t, `SELECT id FROM bags WHERE qr = $1`, qr))
}

func make101() []string {
	qrs := make([]string, 101)
	for i := range qrs {
		qrs[i] = "SB00001"
	}
	return qrs
}

func TestBillCountersFollowChildrenOfLinkedParents(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	fx.parents(t, 10, 2, "hisar")
	fx.children(t, "SB00010", "K10A", 5)
	bill := mustCreateBill(t, env, biller, "B-COUNT", 10)
	mustLink(t, env, biller, bill.ID, "SB00010", "SB00011")

	fx.children(t, "SB00011", "K11A", 4)
	fx.children(t, "SB00010", "K10B", 2)
	if b := billByNumber(t, env, biller, "B-COUNT"); b.ChildBagCount != 11 || b.TotalWeightKg != 11 {
		t.Errorf("after adding children: %+v, want 11 children", b)
	}
	fx.exec(t, `DELETE FROM bags WHERE qr IN ('K10A0001', 'K11A0002', 'K11A0003')`)
	if b := billByNumber(t, env, biller, "B-COUNT"); b.ChildBagCount != 8 || b.ParentBagCount != 2 {
		t.Errorf("after removing children: %+v, want 8 children", b)
	}
	unlinkBag(t, env, biller, bill.ID, "SB00010").Decode(t, &struct{}{})
	fx.children(t, "SB00010", "K10C", 1)
	if b := billByNumber(t, env, biller, "B-COUNT"); b.ChildBagCount != 2 || b.ParentBagCount != 1 {
		t.Errorf("an unlinked parent's children no longer count: %+v", b)
	}
}
