package resolvers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// IPT return tickets through the API (issue 15): a return takes each parent off its bill in
// the same transaction, with the bill's counters and weight exact, also on a completed bill
// (the freeze's one exception); the ticket records bill, children and weight; only OPEN
// tickets take scans; finalize needs a bag; cancel leaves the bags off their bills.

type returnedBagOut struct {
	BagQr      string
	BillNumber string
	ChildCount int
	WeightKg   float64
	Bill       *struct{ BillNumber string }
	ReturnedBy *struct{ Username string }
}

type ticketOut struct {
	ID, Code, CfLocation, Status string
	Notes                        *string
	BagCount, ChildCount         int
	TotalWeightKg                float64
	ClosedAt                     *string
	Bags                         struct {
		TotalCount int
		Edges      []struct{ Node returnedBagOut }
	}
}

const ticketFields = `id code cfLocation notes status bagCount childCount totalWeightKg closedAt
	bags(first: 100) { totalCount edges { node { bagQr billNumber childCount weightKg bill { billNumber } returnedBy { username } } } }`

type scanReturnOut struct {
	Ticket          ticketOut
	Returned        []returnedBagOut
	AlreadyReturned []returnedBagOut
	Rejected        []rejection
}

func createTicket(t *testing.T, env *apitest.Env, token, location string, notes any) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($l: String!, $n: String) { createReturnTicket(input: {cfLocation: $l, notes: $n}) { `+ticketFields+` } }`,
		map[string]any{"l": location, "n": notes})
}

func mustCreateTicket(t *testing.T, env *apitest.Env, token, location string) ticketOut {
	t.Helper()
	var out struct{ CreateReturnTicket ticketOut }
	createTicket(t, env, token, location, "came back damp").Decode(t, &out)
	return out.CreateReturnTicket
}

func scanReturn(t *testing.T, env *apitest.Env, token, ticketID string, qrs ...string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($t: ID!, $q: [String!]!) { scanReturn(ticketId: $t, parentQrs: $q) {
		ticket { `+ticketFields+` } returned { bagQr billNumber childCount weightKg } alreadyReturned { bagQr billNumber childCount weightKg }
		rejected { qr code message } } }`, map[string]any{"t": ticketID, "q": qrs})
}

func mustScanReturn(t *testing.T, env *apitest.Env, token, ticketID string, qrs ...string) scanReturnOut {
	t.Helper()
	var out struct{ ScanReturn scanReturnOut }
	scanReturn(t, env, token, ticketID, qrs...).Decode(t, &out)
	return out.ScanReturn
}

func ticketMutation(t *testing.T, env *apitest.Env, token, name, id string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($id: ID!) { `+name+`(id: $id) { `+ticketFields+` } }`, map[string]any{"id": id})
}

func requireIntegrity(t *testing.T, env *apitest.Env, admin string) {
	t.Helper()
	var got struct {
		Integrity struct {
			Ok       bool
			Problems []struct{ Kind, Detail string }
		}
	}
	env.MustDo(t, admin, `{ integrity { ok problems { kind detail } } }`, nil, &got)
	if !got.Integrity.Ok {
		t.Errorf("integrity after returns: %+v", got.Integrity.Problems)
	}
}

// returnFixture: parents SB45001 (3 children), SB45002 (2), SB45003 (1) on bill B-RTN-OPEN,
// SB45004 (4) and SB45005 (5) on B-RTN-DONE, which is completed; SB45006 on no bill.
func returnFixture(t *testing.T, env *apitest.Env, biller string) (open, done billOut) {
	t.Helper()
	kids := map[string][]string{
		"SB45001": {"RTK0011", "RTK0012", "RTK0013"}, "SB45002": {"RTK0021", "RTK0022"}, "SB45003": {"RTK0031"},
		"SB45004": {"RTK0041", "RTK0042", "RTK0043", "RTK0044"}, "SB45005": {"RTK0051", "RTK0052", "RTK0053", "RTK0054", "RTK0055"},
		"SB45006": {"RTK0061"},
	}
	for parent, children := range kids {
		scanParent(t, env, biller, parent)
		scanChildren(t, env, biller, parent, children...)
	}
	open = mustCreateBill(t, env, biller, "B-RTN-OPEN", 5)
	mustLink(t, env, biller, open.ID, "SB45001", "SB45002", "SB45003")
	done = mustCreateBill(t, env, biller, "B-RTN-DONE", 5)
	mustLink(t, env, biller, done.ID, "SB45004", "SB45005")
	billMutation(t, env, biller, "completeBill", done.ID).Decode(t, &struct{}{})
	return open, done
}

func TestReturnTicketFlowOnInProgressAndCompletedBills(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	billerUser, biller := env.NewUser(t, db.RoleBiller, "")
	returnFixture(t, env, biller)
	ticket := mustCreateTicket(t, env, biller, "  Kota C&F  ")
	if !strings.HasPrefix(ticket.Code, "RTN-") || ticket.Status != "OPEN" || ticket.CfLocation != "Kota C&F" || ticket.BagCount != 0 {
		t.Fatalf("new ticket: %+v", ticket)
	}
	returnedBefore := countScans(t, env, "RETURNED")

	// in progress: SB45001 leaves B-RTN-OPEN (3 -> 2 parents, 6 -> 3 children)
	res := mustScanReturn(t, env, biller, ticket.ID, "SB45001")
	if len(res.Returned) != 1 || res.Returned[0].BillNumber != "B-RTN-OPEN" || res.Returned[0].ChildCount != 3 || res.Returned[0].WeightKg != 3 {
		t.Errorf("returned: %+v", res.Returned)
	}
	if got := billByNumber(t, env, biller, "B-RTN-OPEN"); got.ParentBagCount != 2 || got.ChildBagCount != 3 || got.TotalWeightKg != 3 || got.Status != "IN_PROGRESS" {
		t.Errorf("in-progress bill after the return: %+v, want 2 parents, 3 children, 3 kg", got)
	}
	// completed: SB45004 leaves B-RTN-DONE (2 -> 1 parents, 9 -> 5 children), which stays completed
	res = mustScanReturn(t, env, biller, ticket.ID, "sb45004", "SB45001")
	if len(res.Returned) != 1 || res.Returned[0].BagQr != "SB45004" || res.Returned[0].ChildCount != 4 {
		t.Errorf("returned from the completed bill: %+v", res.Returned)
	}
	if len(res.AlreadyReturned) != 1 || res.AlreadyReturned[0].BagQr != "SB45001" || len(res.Rejected) != 0 {
		t.Errorf("a retried QR: alreadyReturned %+v, rejected %+v", res.AlreadyReturned, res.Rejected)
	}
	if got := billByNumber(t, env, biller, "B-RTN-DONE"); got.ParentBagCount != 1 || got.ChildBagCount != 5 || got.TotalWeightKg != 5 || got.Status != "COMPLETED" {
		t.Errorf("completed bill after the return: %+v, want COMPLETED with 1 parent, 5 children, 5 kg", got)
	}
	tk := res.Ticket
	if tk.BagCount != 2 || tk.ChildCount != 7 || tk.TotalWeightKg != 7 || tk.Bags.TotalCount != 2 || len(tk.Bags.Edges) != 2 {
		t.Errorf("ticket after two returns: %+v", tk)
	}
	if len(tk.Bags.Edges) == 2 {
		first, second := tk.Bags.Edges[0].Node, tk.Bags.Edges[1].Node
		if first.BagQr != "SB45001" || second.BagQr != "SB45004" || second.Bill == nil || second.Bill.BillNumber != "B-RTN-DONE" ||
			second.ReturnedBy == nil || second.ReturnedBy.Username != billerUser.Username {
			t.Errorf("ticket bags: %+v", tk.Bags.Edges)
		}
	}
	if n := countScans(t, env, "RETURNED") - returnedBefore; n != 2 {
		t.Errorf("RETURNED scans logged: %d, want 2 (the retry logs nothing)", n)
	}
	var bag struct {
		Bag struct {
			Bill  *struct{ BillNumber string }
			Scans struct {
				Edges []struct{ Node struct{ Kind string } }
			}
		}
	}
	env.MustDo(t, biller, `{ bag(qr: "SB45004") { bill { billNumber } scans(first: 1) { edges { node { kind } } } } }`, nil, &bag)
	if bag.Bag.Bill != nil || len(bag.Bag.Scans.Edges) != 1 || bag.Bag.Scans.Edges[0].Node.Kind != "RETURNED" {
		t.Errorf("a returned parent: %+v, want on no bill with a RETURNED scan last", bag.Bag)
	}

	// the freeze still holds for every other path on the completed bill
	done := billByNumber(t, env, biller, "B-RTN-DONE")
	if code := unlinkBag(t, env, biller, done.ID, "SB45005").Code(); code != "CONFLICT" {
		t.Errorf("unlinkBagFromBill on the completed bill after a return: %q, want CONFLICT", code)
	}
	if code := linkBags(t, env, biller, done.ID, []string{"SB45004"}).Code(); code != "CONFLICT" {
		t.Errorf("linkBagsToBill on the completed bill after a return: %q, want CONFLICT", code)
	}
	if r := scanChildren(t, env, biller, "SB45005", "RTK0056"); len(r.Linked) != 0 {
		t.Errorf("a child scanned into a completed bill's parent after a return: %+v", r)
	}

	var finalized struct{ FinalizeReturnTicket ticketOut }
	ticketMutation(t, env, biller, "finalizeReturnTicket", ticket.ID).Decode(t, &finalized)
	if f := finalized.FinalizeReturnTicket; f.Status != "COMMITTED" || f.ClosedAt == nil || f.BagCount != 2 {
		t.Errorf("finalized: %+v", f)
	}
	requireIntegrity(t, env, admin)
}

func TestReturnRejectionsAndClosedTickets(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	_, biller := env.NewUser(t, db.RoleBiller, "")
	returnFixture(t, env, biller)
	first := mustCreateTicket(t, env, biller, "Kota")
	mustScanReturn(t, env, biller, first.ID, "SB45002")
	second := mustCreateTicket(t, env, admin, "Bundi")
	scansBefore := countAllScans(t, env)

	res := mustScanReturn(t, env, admin, second.ID, "SB49999", "RTK0011", "SB45006", "SB45002", "not a qr", "SB45003", "SB45003", "SB45004", "SB45005")
	codes := map[string]string{}
	for _, r := range res.Rejected {
		codes[r.QR] = r.Code
		if r.Message == "" {
			t.Errorf("rejection without a message: %+v", r)
		}
	}
	want := map[string]string{"SB49999": "NOT_FOUND", "RTK0011": "IS_CHILD", "SB45006": "NOT_ON_BILL", "SB45002": "ALREADY_RETURNED",
		"NOT A QR": "INVALID_QR", "SB45003": "DUPLICATE_IN_BATCH"}
	for qr, code := range want {
		if codes[qr] != code {
			t.Errorf("%s: rejected %q, want %s (all: %+v)", qr, codes[qr], code, res.Rejected)
		}
	}
	for _, r := range res.Rejected {
		if r.Code == "ALREADY_RETURNED" && !strings.Contains(r.Message, first.Code) {
			t.Errorf("ALREADY_RETURNED does not name the ticket %s: %q", first.Code, r.Message)
		}
	}
	// valid QRs go through beside the rejected ones: SB45003 (once), and SB45004 and SB45005
	// leave the completed bill (its last parent too: TestReturnEmptiesACompletedBill)
	got := map[string]bool{}
	for _, b := range res.Returned {
		got[b.BagQr] = true
	}
	if len(res.Returned) != 3 || !got["SB45003"] || !got["SB45004"] || !got["SB45005"] {
		t.Errorf("returned %+v, want SB45003, SB45004 and SB45005", res.Returned)
	}
	if n := countAllScans(t, env) - scansBefore; n != 3 {
		t.Errorf("scans logged: %d, want 3 (rejections log nothing)", n)
	}

	// closed tickets take no scans and do not change status again
	empty := mustCreateTicket(t, env, biller, "Tonk")
	if r := ticketMutation(t, env, biller, "finalizeReturnTicket", empty.ID); r.Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "scan at least one") {
		t.Errorf("finalizing an empty ticket: %+v, want CONFLICT saying to scan a bag", r.Errors)
	}
	var cancelled struct{ CancelReturnTicket ticketOut }
	ticketMutation(t, env, biller, "cancelReturnTicket", first.ID).Decode(t, &cancelled)
	if cancelled.CancelReturnTicket.Status != "CANCELLED" {
		t.Errorf("cancelled: %+v", cancelled.CancelReturnTicket)
	}
	if b := billByNumber(t, env, biller, "B-RTN-OPEN"); b.ParentBagCount != 1 || b.ChildBagCount != 3 {
		t.Errorf("cancelling put bags back on their bill: %+v, want 1 parent (SB45001), 3 children", b)
	}
	for _, name := range []string{"finalizeReturnTicket", "cancelReturnTicket"} {
		if r := ticketMutation(t, env, biller, name, first.ID); r.Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, first.Code+" is CANCELLED") {
			t.Errorf("%s on a cancelled ticket: %+v", name, r.Errors)
		}
	}
	if r := scanReturn(t, env, biller, first.ID, "SB45001"); r.Code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "only OPEN tickets") {
		t.Errorf("scanReturn on a cancelled ticket: %+v, want CONFLICT", r.Errors)
	}
	if b := billByNumber(t, env, biller, "B-RTN-OPEN"); b.ParentBagCount != 1 {
		t.Errorf("a refused scan changed the bill: %+v", b)
	}

	// input checks
	if code := createTicket(t, env, biller, "   ", nil).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("blank cfLocation: %q, want BAD_USER_INPUT", code)
	}
	if code := createTicket(t, env, biller, "Kota", strings.Repeat("n", 501)).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("501-character notes: %q, want BAD_USER_INPUT", code)
	}
	if code := createTicket(t, env, biller, "Kota", strings.Repeat("n", 500)).Code(); code != "" {
		t.Errorf("500-character notes: %q, want accepted", code)
	}
	if code := scanReturn(t, env, biller, billByNumber(t, env, biller, "B-RTN-OPEN").ID, "SB45001").Code(); code != "BAD_USER_INPUT" {
		t.Errorf("a bill id as ticketId: %q, want BAD_USER_INPUT", code)
	}

	// the list, newest first, by status
	var list struct {
		ReturnTickets struct {
			TotalCount int
			Edges      []struct{ Node struct{ Code, Status string } }
		}
	}
	env.MustDo(t, biller, `{ returnTickets(filter: {status: OPEN}) { totalCount edges { node { code status } } } }`, nil, &list)
	if list.ReturnTickets.TotalCount != 3 || len(list.ReturnTickets.Edges) != 3 || list.ReturnTickets.Edges[2].Node.Code != second.Code {
		t.Errorf("OPEN tickets: %+v, want the three open ones, newest first", list.ReturnTickets)
	}
	env.MustDo(t, biller, `{ returnTickets(filter: {status: CANCELLED}, first: 1) { totalCount edges { node { code status } } } }`, nil, &list)
	if list.ReturnTickets.TotalCount != 1 || list.ReturnTickets.Edges[0].Node.Code != first.Code {
		t.Errorf("CANCELLED tickets: %+v", list.ReturnTickets)
	}
	requireIntegrity(t, env, admin)

	// integrity recounts the tickets' counters too
	mustExec(t, env, `ALTER TABLE return_tickets DISABLE TRIGGER return_tickets_closed_final`)
	mustExec(t, env, `UPDATE return_tickets SET bag_count = bag_count + 1 WHERE code = $1`, first.Code)
	var drifted struct {
		Integrity struct {
			Problems []struct{ Kind, Detail string }
		}
	}
	env.MustDo(t, admin, `{ integrity { problems { kind detail } } }`, nil, &drifted)
	if p := drifted.Integrity.Problems; len(p) != 1 || p[0].Kind != "RETURN_TICKET_COUNTER_MISMATCH" || !strings.Contains(p[0].Detail, first.Code) {
		t.Errorf("integrity after a drifted ticket counter: %+v", p)
	}
}

func TestReturnsAreForAdminsAndBillers(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, "jaipur")
	returnFixture(t, env, biller)
	ticket := mustCreateTicket(t, env, biller, "Kota")
	mustScanReturn(t, env, biller, ticket.ID, "SB45001")
	for name, resp := range map[string]*apitest.Response{
		"createReturnTicket":   createTicket(t, env, dispatcher, "Kota", nil),
		"scanReturn":           scanReturn(t, env, dispatcher, ticket.ID, "SB45002"),
		"finalizeReturnTicket": ticketMutation(t, env, dispatcher, "finalizeReturnTicket", ticket.ID),
		"cancelReturnTicket":   ticketMutation(t, env, dispatcher, "cancelReturnTicket", ticket.ID),
		"returnTicket":         env.Do(t, dispatcher, `query($id: ID!) { returnTicket(id: $id) { code } }`, map[string]any{"id": ticket.ID}),
		"returnTickets":        env.Do(t, dispatcher, `{ returnTickets { totalCount } }`, nil),
		"node":                 env.Do(t, dispatcher, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ticket.ID}),
	} {
		if resp.Code() != "FORBIDDEN" {
			t.Errorf("%s as a dispatcher: %+v, want FORBIDDEN", name, resp.Errors)
		}
	}
	var node struct{ Node struct{ Code string } }
	env.MustDo(t, biller, `query($id: ID!) { node(id: $id) { ... on ReturnTicket { code } } }`, map[string]any{"id": ticket.ID}, &node)
	if node.Node.Code != ticket.Code {
		t.Errorf("node(id) of a ticket for a biller: %+v", node)
	}
	if b := billByNumber(t, env, biller, "B-RTN-OPEN"); b.ParentBagCount != 2 {
		t.Errorf("the dispatcher's refused scan changed the bill: %+v", b)
	}
}

// A return appears in the live scan feed like every scan, with the bill it left.
func TestReturnAppearsInScanAdded(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	returnFixture(t, env, biller)
	var last struct {
		Scans struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	env.MustDo(t, biller, `{ scans(first: 1) { edges { node { id } } } }`, nil, &last)
	socket := env.Connect(t, biller)
	defer socket.Close()
	socket.Subscribe("1", `subscription($after: ID) { scanAdded(after: $after, kinds: [RETURNED]) { kind bagQr bill { billNumber } } }`,
		map[string]any{"after": last.Scans.Edges[0].Node.ID})
	ticket := mustCreateTicket(t, env, biller, "Kota")
	mustScanReturn(t, env, biller, ticket.ID, "SB45004")
	for {
		m, err := socket.Read(10 * time.Second)
		if err != nil {
			t.Fatalf("no RETURNED event: %v", err)
		}
		if m.Type != "next" {
			continue
		}
		var p struct {
			Data struct {
				ScanAdded struct {
					Kind, BagQr string
					Bill        *struct{ BillNumber string }
				}
			}
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if e := p.Data.ScanAdded; e.Kind != "RETURNED" || e.BagQr != "SB45004" || e.Bill == nil || e.Bill.BillNumber != "B-RTN-DONE" {
			t.Errorf("scanAdded: %+v, want RETURNED of SB45004 from B-RTN-DONE", e)
		}
		return
	}
}
