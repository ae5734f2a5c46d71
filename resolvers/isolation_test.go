package resolvers_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// SPEC.md, isolation: nothing a dispatcher receives (query data at any depth, mutation results,
// subscription events, error messages, exports) names or contains a bag, scan or child of
// another area; other users' email and lastLoginAt are for admins and the user themself. These
// tests walk the whole schema as introspection gives it, so they hold for fields added later.

// TestIsolationQueryWalk runs every query field, with every argument value the fixture offers
// (lucknow's QRs and ids first), selected to walkDepth entities, as a jaipur dispatcher.
func TestIsolationQueryWalk(t *testing.T) {
	t.Parallel()
	f := newIsoFixture(t)
	c := f.checker(f.jaipur, true)
	f.walk(t, "query", func() string { return f.caller }, c)
	c.report.fail(t)
	c.requireOwnSeen(t)
	c.requireOtherUsersSeen(t)

	var bill struct {
		Bill struct {
			ParentBagCount int
			ParentBags     struct {
				TotalCount int
				Edges      []struct{ Node struct{ QR string } }
			}
		}
	}
	f.env.MustDo(t, f.caller, `query($n: String) { bill(billNumber: $n) { parentBagCount parentBags { totalCount edges { node { qr } } } } }`,
		map[string]any{"n": mixedBill}, &bill)
	if pb := bill.Bill.ParentBags; pb.TotalCount != 1 || len(pb.Edges) != 1 || pb.Edges[0].Node.QR != jaipurParentQR {
		t.Errorf("the mixed bill's parentBags for a jaipur dispatcher: %+v, want only %s counted and listed", pb, jaipurParentQR)
	}
	var summary struct{ ScanSummary []struct{ Key string } }
	f.env.MustDo(t, f.caller, `{ scanSummary(groupBy: AREA) { key } }`, nil, &summary)
	for _, group := range summary.ScanSummary {
		if group.Key != "jaipur" {
			t.Errorf("scanSummary(groupBy: AREA) for a jaipur dispatcher has the group %q", group.Key)
		}
	}
	var stats struct{ Stats map[string]int }
	f.env.MustDo(t, f.caller, `{ stats { parentBags childBags totalScans } }`, nil, &stats)
	for field, query := range map[string]string{
		"parentBags": `SELECT count(*) FROM bags b JOIN areas a ON a.id = b.area_id WHERE a.code = 'jaipur' AND b.type = 'PARENT'`,
		"childBags":  `SELECT count(*) FROM bags b JOIN areas a ON a.id = b.area_id WHERE a.code = 'jaipur' AND b.type = 'CHILD'`,
	} {
		var want int
		if err := f.env.Store.DB().QueryRow(query).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got := stats.Stats[field]; got != want {
			t.Errorf("stats.%s for a jaipur dispatcher: %d, want jaipur's %d", field, got, want)
		}
	}
}

// TestPrivateUserFieldsWalk runs the query walk as a biller, who sees every area but not other
// users' email and lastLoginAt; and checks that the user themself and admins do see theirs.
func TestPrivateUserFieldsWalk(t *testing.T) {
	t.Parallel()
	f := newIsoFixture(t)
	c := f.checker(f.billerRow, false)
	f.walk(t, "query", func() string { return f.biller }, c, "bag", "bags", "bill", "bills", "scans", "me")
	c.report.fail(t)
	c.requireOtherUsersSeen(t)

	var me struct {
		Me struct{ Email, LastLoginAt *string }
	}
	f.env.MustDo(t, f.caller, `{ me { email lastLoginAt } }`, nil, &me)
	if me.Me.Email == nil || *me.Me.Email != "jaipur.self@iso.test" || me.Me.LastLoginAt == nil {
		t.Errorf("a dispatcher's own email and lastLoginAt: %+v, want them", me.Me)
	}
	var users struct {
		Users struct {
			Edges []struct {
				Node struct{ Username, Email string }
			}
		}
	}
	f.env.MustDo(t, f.admin, `{ users(first: 100) { edges { node { username email } } } }`, nil, &users)
	emails := map[string]string{}
	for _, e := range users.Users.Edges {
		emails[e.Node.Username] = e.Node.Email
	}
	if emails[f.lucknowUser.Username] != "lucknow.hidden@iso.test" {
		t.Errorf("an admin reads a dispatcher's email as %q, want lucknow.hidden@iso.test", emails[f.lucknowUser.Username])
	}
}

// TestIsolationMutationWalk calls every mutation, with lucknow's QRs and ids (and jaipur's), as
// a jaipur dispatcher with a fresh token per call (logout and changePassword are walked too).
func TestIsolationMutationWalk(t *testing.T) {
	t.Parallel()
	f := newIsoFixture(t)
	// a deleted QR is free: the dispatcher's scan would make it a jaipur bag, with lucknow's
	// old scans of it (which name it) still in the log
	f.deletedQRs = nil
	c := f.checker(f.jaipur, true)
	f.walk(t, "mutation", func() string { return f.env.TokenFor(t, f.jaipur.ID) }, c)
	c.report.fail(t)
	c.requireOwnSeen(t, jaipurParentQR)
}

// TestIsolationSubscriptionWalk subscribes to every subscription field with every argument
// value, as a jaipur dispatcher, changes both areas, and reads every event and error.
func TestIsolationSubscriptionWalk(t *testing.T) {
	t.Parallel()
	f := newIsoFixture(t)
	s := introspect(t, f.env, f.caller)
	sel := newSelector(s)
	subs, sockets := f.subscribeAll(t, s, sel)
	f.requireWalkable(t, sel, s, "subscription")
	received := readWhile(sockets, func() {
		// the protocol does not say when a subscription listens: two rounds of changes, the
		// second after the slowest subscriber has surely started
		time.Sleep(300 * time.Millisecond)
		f.changeBothAreas(t, 1)
		time.Sleep(1500 * time.Millisecond)
		f.changeBothAreas(t, 2)
		time.Sleep(2 * time.Second) // statsUpdated comes at most once a second
	})
	f.collect(t, "lucknow") // the changes' scans and bags are forbidden too
	c := f.checker(f.jaipur, true)
	events := map[string]int{}
	for _, m := range received {
		sub := subs[m.ID]
		var p struct {
			Data   json.RawMessage `json:"data"`
			Errors []apitest.Error `json:"errors"`
		}
		if m.Type == "error" {
			_ = json.Unmarshal(m.Payload, &p.Errors)
		} else {
			_ = json.Unmarshal(m.Payload, &p)
		}
		if m.Type == "next" && len(p.Data) > 0 && string(p.Data) != "null" {
			events[sub.field]++
		}
		for _, e := range p.Errors {
			if code, _ := e.Extensions["code"].(string); code != "FORBIDDEN" && code != "BAD_USER_INPUT" && code != "NOT_FOUND" {
				t.Errorf("subscription %s: %s %q: the walk must not lose a subscription to anything but a refusal", sub.call, code, e.Message)
			}
		}
		c.check("subscription "+sub.call, sub.inputs, p.Data, p.Errors)
	}
	for _, field := range s.rootFields("subscription") {
		if events[field.Name] == 0 {
			t.Errorf("no event of %s reached the walk: the changes must reach every subscription field", field.Name)
		}
	}
	c.report.fail(t)
	c.requireOwnSeen(t, "SB61005", "SB61006")
	t.Logf("subscription walk: %d subscriptions on %d sockets, events %v", len(subs), len(sockets), events)
}

// walkSubscription is one subscription of the walk.
type walkSubscription struct {
	field, call string
	inputs      map[string]bool
}

// subscribeAll starts every variant of every subscription field, as the jaipur dispatcher, a
// few per socket; the subscriptions are keyed by id, unique over the sockets.
func (f *isoFixture) subscribeAll(t *testing.T, s *schema, sel *selector) (map[string]walkSubscription, []*apitest.Socket) {
	t.Helper()
	subs := map[string]walkSubscription{}
	var sockets []*apitest.Socket
	for _, field := range s.rootFields("subscription") {
		vs, unfilled := s.variants(s.roots["subscription"], field, f.source)
		for _, u := range unfilled {
			t.Errorf("the walk cannot fill the argument %s: give it values in isoFixture.source", u)
		}
		for _, v := range vs {
			if len(subs)%subscriptionsPerSocket == 0 {
				sockets = append(sockets, f.env.Connect(t, f.caller))
			}
			id := fmt.Sprint(len(subs) + 1)
			sockets[len(sockets)-1].Subscribe(id, s.operation("subscription", field, v, sel.selection(field.Type.named())), v)
			subs[id] = walkSubscription{field.Name, field.Name + mustMarshal(v), inputsOf(v)}
		}
	}
	return subs, sockets
}

// readWhile reads every socket while during runs, then closes them and returns what came.
func readWhile(sockets []*apitest.Socket, during func()) []apitest.SocketMessage {
	received := make([][]apitest.SocketMessage, len(sockets))
	var wg sync.WaitGroup
	for i, socket := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := socket.Read(time.Minute) // until the socket is closed below
				if err != nil {
					return
				}
				received[i] = append(received[i], m)
			}
		}()
	}
	during()
	for _, socket := range sockets {
		socket.Close()
	}
	wg.Wait()
	return slices.Concat(received...)
}

// subscriptionsPerSocket stays under any per-socket cap a server sets.
const subscriptionsPerSocket = 5

// changeBothAreas scans, links and edits in lucknow and in jaipur, as their dispatchers and
// the biller would; round r uses parent 4+r of each area and new children.
func (f *isoFixture) changeBothAreas(t *testing.T, round int) {
	t.Helper()
	lucknow := f.env.TokenFor(t, f.lucknowUser.ID)
	mate := f.env.TokenFor(t, f.jaipurMate.ID)
	for _, token := range []string{lucknow, mate} {
		prefix, kid := "SB7100", "LKOKID"
		if token == mate {
			prefix, kid = "SB6100", "JPRKID"
		}
		parent := fmt.Sprint(prefix, 4+round)
		newKid, oldParentsKid := fmt.Sprintf("%sR%dA", kid, round), fmt.Sprintf("%sR%dB", kid, round)
		if token == lucknow {
			for _, qr := range []string{parent, newKid, oldParentsKid} {
				f.forbidden[qr] = "a lucknow QR (scanned while subscribed)"
			}
		} else {
			f.own = append(f.own, parent)
		}
		scanParent(t, f.env, token, parent)
		scanChildren(t, f.env, token, parent, newKid)
		scanChildren(t, f.env, token, prefix+"1", oldParentsKid)
		mustLink(t, f.env, f.biller, f.mixedBillID, parent)
		unlinkBag(t, f.env, f.biller, f.mixedBillID, parent)
	}
	mustSucceed(t, f.env, f.biller, `mutation($id: ID!, $d: String) { updateBill(id: $id, input: {destination: $d}) { id } }`,
		map[string]any{"id": f.mixedBillID, "d": fmt.Sprint("Iso Mandi ", round)})
}

// TestIsolationExports downloads the CSV exports as a jaipur dispatcher with every filter (each
// .xlsx holds exactly its CSV's rows: export.TestXLSXExportsMatchTheirCSV).
func TestIsolationExports(t *testing.T) {
	t.Parallel()
	f := newIsoFixture(t)
	c := f.checker(f.jaipur, true)
	lucknowID := globalUserID(f.lucknowUser.ID)
	for _, path := range []string{
		"/export/bags.csv", "/export/bags.csv?areaCode=lucknow", "/export/bags.csv?areaCode=jaipur",
		"/export/bags.csv?search=LKO", "/export/bags.csv?qrPrefix=SB71", "/export/bags.csv?type=CHILD",
		"/export/bags.csv?type=PARENT", "/export/bags.csv?billed=true", "/export/bags.csv?billed=false",
		"/export/bags.csv?status=COMPLETED", "/export/bags.csv?status=IN_PROGRESS", "/export/bags.csv?status=PENDING",
		"/export/bills.csv", "/export/bills.csv?search=MIXED", "/export/bills.csv?createdById=" + url.QueryEscape(lucknowID),
		"/export/scans.csv", "/export/scans.csv?areaCode=lucknow", "/export/scans.csv?userId=" + url.QueryEscape(lucknowID),
		"/export/scans.csv?kinds=CHILD_UNLINKED,BAG_DELETED,BILL_UNLINKED",
	} {
		req, _ := http.NewRequest(http.MethodGet, f.env.Server.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+f.caller)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inputs := map[string]bool{}
		for _, vs := range req.URL.Query() {
			for _, v := range vs {
				inputs[v] = true
			}
		}
		c.checkString(fmt.Sprintf("GET %s (HTTP %d)", path, resp.StatusCode), "body", "the CSV export", string(body), inputs, nil, false)
	}
	c.report.fail(t)
	c.requireOwnSeen(t, "SB61001", "JPRKID01")
}

// requireOtherUsersSeen fails when no other user's object came back: the private-field check
// would have had nothing to look at.
func (c *checker) requireOtherUsersSeen(t *testing.T) {
	t.Helper()
	if c.otherUsers == 0 {
		t.Error("the walk never received another user: createdBy / user fields were not reached")
	}
}

func (f *isoFixture) checker(self *db.User, areaTokens bool) *checker {
	return &checker{f: f, self: self, areaTokens: areaTokens, report: &leakReport{}, seenOwn: map[string]bool{}}
}

// requireOwnSeen fails when the caller's own QRs never came back: a walk that reads nothing
// proves nothing.
func (c *checker) requireOwnSeen(t *testing.T, qrs ...string) {
	t.Helper()
	if len(qrs) == 0 {
		qrs = c.f.own
	}
	for _, qr := range qrs {
		if !c.seenOwn[qr] {
			t.Errorf("the walk never received jaipur's own %s: it did not reach the data it checks", qr)
		}
	}
}

// walk calls every root field of the operation type (or only the named ones) with every
// variant of its arguments, as the token token() gives, and checks each answer. It fails when
// an argument has no values or a field of a reached type was never selected.
func (f *isoFixture) walk(t *testing.T, op string, token func() string, c *checker, only ...string) {
	t.Helper()
	s := introspect(t, f.env, f.caller)
	sel := newSelector(s)
	var calls []walkCall
	for _, field := range s.rootFields(op) {
		if len(only) > 0 && !slices.Contains(only, field.Name) {
			continue
		}
		vs, unfilled := s.variants(s.roots[op], field, f.source)
		for _, u := range unfilled {
			t.Errorf("the walk cannot fill the argument %s: give it values in isoFixture.source", u)
		}
		selection := sel.selection(field.Type.named())
		for _, v := range vs {
			calls = append(calls, walkCall{field.Name + mustMarshal(v), s.operation(op, field, v, selection), token(), v})
		}
	}
	if len(only) == 0 {
		f.requireWalkable(t, sel, s, op)
	}
	perField := map[string]int{}
	for _, cl := range calls {
		perField[strings.SplitN(cl.name, "{", 2)[0]]++
	}
	t.Logf("%s walk: %d root fields, %d Type.field selected, %d calls: %v", op, len(perField), len(sel.covered), len(calls), perField)
	f.run(t, op, calls, 1, func(cl walkCall, resp *apitest.Response) {
		for _, e := range resp.Errors {
			switch code, _ := e.Extensions["code"].(string); code {
			case "TRANSPORT", "QUERY_TOO_COMPLEX", "RATE_LIMITED", "SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR":
				t.Errorf("%s %s: %s %q: the walk needs the server's real answer", op, cl.name, code, e.Message)
			}
		}
		c.check(op+" "+cl.name, inputsOf(cl.vars), resp.Data, resp.Errors)
	})
}

// requireWalkable fails on what the selections could not reach or fill.
func (f *isoFixture) requireWalkable(t *testing.T, sel *selector, s *schema, op string) {
	t.Helper()
	for u := range sel.unfillable {
		t.Errorf("the walk cannot fill the required nested argument %s: teach selector.nestedArgs", u)
	}
	var roots []string
	for _, field := range s.rootFields(op) {
		roots = append(roots, field.Type.named())
	}
	if missing := sel.uncovered(roots); len(missing) > 0 {
		t.Errorf("fields no %s selection reached (raise walkDepth or add a path): %s", op, strings.Join(missing, ", "))
	}
}
