package resolvers_test

import (
	"encoding/json"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// A return takes the last parent of a completed bill too (issue 15: the ticket is the
// freeze's sanctioned exception, also on a completed bill); a completed bill is never empty
// and a bill with nothing linked is OPEN (SPEC "Bills"), so the bill ends OPEN, its completion
// cleared, and the audit log says so. Return tickets are audited: created, bags returned (one
// entry per call), finalized, cancelled.

type emptiedBillOut struct {
	Status                        string
	ParentBagCount, ChildBagCount int
	TotalWeightKg                 float64
	CompletedAt                   *string
	CompletedBy                   *struct{ Username string }
}

func emptiedBill(t *testing.T, env *apitest.Env, token, number string) emptiedBillOut {
	t.Helper()
	var out struct{ Bill emptiedBillOut }
	env.MustDo(t, token, `query($n: String!) { bill(billNumber: $n) { status parentBagCount childBagCount totalWeightKg completedAt completedBy { username } } }`,
		map[string]any{"n": number}, &out)
	return out.Bill
}

// ticketAuditOut is an audit entry with its target as a ticket or a bill.
type ticketAuditOut struct {
	Action string
	Actor  *struct{ Username string }
	Target *struct {
		Typename   string `json:"__typename"`
		Code       string
		BillNumber string
	}
	Before, After *string
}

func ticketAudit(t *testing.T, env *apitest.Env, admin string, filter map[string]any) []ticketAuditOut {
	t.Helper()
	var out struct {
		AuditLog struct {
			Edges []struct{ Node ticketAuditOut }
		}
	}
	env.MustDo(t, admin, `query($f: AuditFilter) { auditLog(filter: $f, first: 100) { edges { node { action actor { username } before after
		target { __typename ... on ReturnTicket { code } ... on Bill { billNumber } } } } } }`, map[string]any{"f": filter}, &out)
	entries := make([]ticketAuditOut, len(out.AuditLog.Edges))
	for i, e := range out.AuditLog.Edges {
		entries[i] = e.Node
	}
	return entries
}

func decodeJSON(t *testing.T, raw *string) map[string]any {
	t.Helper()
	if raw == nil {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(*raw), &out); err != nil {
		t.Fatalf("audit state is not JSON: %v: %s", err, *raw)
	}
	return out
}

func TestReturnEmptiesACompletedBill(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	billerUser, biller := env.NewUser(t, db.RoleBiller, "")
	open, _ := returnFixture(t, env, biller)
	ticket := mustCreateTicket(t, env, biller, "Kota C&F")

	// one at a time: B-RTN-DONE stays completed with one parent, then its last one leaves
	mustScanReturn(t, env, biller, ticket.ID, "SB45004")
	if b := emptiedBill(t, env, biller, "B-RTN-DONE"); b.Status != "COMPLETED" || b.ParentBagCount != 1 {
		t.Fatalf("after its first parent left: %+v, want COMPLETED with 1 parent", b)
	}
	res := mustScanReturn(t, env, biller, ticket.ID, "SB45005")
	if len(res.Returned) != 1 || len(res.Rejected) != 0 || res.Returned[0].BillNumber != "B-RTN-DONE" || res.Returned[0].ChildCount != 5 {
		t.Errorf("the last parent of a completed bill: returned %+v, rejected %+v", res.Returned, res.Rejected)
	}
	// in one call: every parent of a completed B-RTN-OPEN at once
	billMutation(t, env, biller, "completeBill", open.ID).Decode(t, &struct{}{})
	res = mustScanReturn(t, env, biller, ticket.ID, "SB45001", "SB45002", "SB45003")
	if len(res.Returned) != 3 || len(res.Rejected) != 0 {
		t.Errorf("every parent of a completed bill in one call: returned %+v, rejected %+v", res.Returned, res.Rejected)
	}
	for _, number := range []string{"B-RTN-DONE", "B-RTN-OPEN"} {
		if b := emptiedBill(t, env, biller, number); b.Status != "OPEN" || b.ParentBagCount != 0 || b.ChildBagCount != 0 ||
			b.TotalWeightKg != 0 || b.CompletedAt != nil || b.CompletedBy != nil {
			t.Errorf("%s emptied by returns: %+v, want OPEN, empty, completion cleared", number, b)
		}
	}

	// the audit log: one BILL_REOPENED per emptied bill, by the returner, naming the ticket
	reopened := ticketAudit(t, env, admin, map[string]any{"actions": []string{"BILL_REOPENED"}})
	if len(reopened) != 2 {
		t.Fatalf("BILL_REOPENED entries: %+v, want one per emptied bill", reopened)
	}
	for _, e := range reopened {
		before, after := decodeJSON(t, e.Before), decodeJSON(t, e.After)
		if e.Actor == nil || e.Actor.Username != billerUser.Username || e.Target == nil || e.Target.Typename != "Bill" ||
			before["status"] != "COMPLETED" || after["status"] != "OPEN" || after["parentBagCount"] != 0.0 ||
			after["returnTicket"] != ticket.Code || after["completedAt"] != nil {
			t.Errorf("BILL_REOPENED by a return: %+v\nbefore %v\nafter %v", e, before, after)
		}
	}

	// an OPEN bill takes parents again, and can be completed again
	if l := mustLink(t, env, biller, open.ID, "SB45006"); len(l.Linked) != 1 || l.Bill.Status != "IN_PROGRESS" {
		t.Errorf("linking to the emptied bill: %+v", l)
	}
	billMutation(t, env, biller, "completeBill", open.ID).Decode(t, &struct{}{})
	if b := emptiedBill(t, env, biller, "B-RTN-OPEN"); b.Status != "COMPLETED" || b.CompletedBy == nil {
		t.Errorf("completed again: %+v", b)
	}
	requireIntegrity(t, env, admin)
}

func TestReturnTicketsAreAudited(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	billerUser, biller := env.NewUser(t, db.RoleBiller, "")
	returnFixture(t, env, biller)
	kept := mustCreateTicket(t, env, biller, "Kota C&F")
	mustScanReturn(t, env, biller, kept.ID, "SB45001", "SB45002")
	mustScanReturn(t, env, biller, kept.ID, "SB45001")            // a retry: returns nothing
	mustScanReturn(t, env, biller, kept.ID, "SB45006", "SB49999") // all rejected
	ticketMutation(t, env, biller, "finalizeReturnTicket", kept.ID).Decode(t, &struct{}{})
	dropped := mustCreateTicket(t, env, admin, "Bundi")
	ticketMutation(t, env, admin, "cancelReturnTicket", dropped.ID).Decode(t, &struct{}{})

	entries := ticketAudit(t, env, admin, map[string]any{"targetId": kept.ID})
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Target == nil || e.Target.Typename != "ReturnTicket" || e.Target.Code != kept.Code || e.Actor == nil || e.Actor.Username != billerUser.Username {
			t.Errorf("%s: target %+v actor %+v, want ticket %s by %s", e.Action, e.Target, e.Actor, kept.Code, billerUser.Username)
		}
	}
	want := []string{"RETURN_TICKET_FINALIZED", "BAGS_RETURNED", "RETURN_TICKET_CREATED"}
	if len(actions) != len(want) || actions[0] != want[0] || actions[1] != want[1] || actions[2] != want[2] {
		t.Fatalf("entries about %s: %v, want %v (newest first; calls that returned nothing write none)", kept.Code, actions, want)
	}
	finalized, returned, created := entries[0], entries[1], entries[2]
	if before, after := decodeJSON(t, finalized.Before), decodeJSON(t, finalized.After); before["status"] != "OPEN" ||
		after["status"] != "COMMITTED" || after["bagCount"] != 2.0 {
		t.Errorf("RETURN_TICKET_FINALIZED: before %v after %v", before, after)
	}
	after := decodeJSON(t, returned.After)
	bags, _ := after["bags"].([]any)
	if decodeJSON(t, returned.Before)["bagCount"] != 0.0 || after["bagCount"] != 2.0 || len(bags) != 2 ||
		bags[0].(map[string]any)["qr"] != "SB45001" || bags[1].(map[string]any)["billNumber"] != "B-RTN-OPEN" {
		t.Errorf("BAGS_RETURNED: before %v after %v", *returned.Before, after)
	}
	if created.Before != nil || decodeJSON(t, created.After)["cfLocation"] != "Kota C&F" {
		t.Errorf("RETURN_TICKET_CREATED: %+v", created)
	}
	cancelled := ticketAudit(t, env, admin, map[string]any{"targetId": dropped.ID})
	if len(cancelled) != 2 || cancelled[0].Action != "RETURN_TICKET_CANCELLED" || decodeJSON(t, cancelled[0].After)["status"] != "CANCELLED" {
		t.Errorf("entries about the cancelled ticket: %+v", cancelled)
	}
	var recount int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM audit_log WHERE target_type = 'return_ticket'`).Scan(&recount); err != nil {
		t.Fatal(err)
	}
	if recount != 5 {
		t.Errorf("audit entries about tickets: %d, want 5", recount)
	}
}
