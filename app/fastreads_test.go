package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The fast path of reads (app/fastreads.go) is proven against gqlgen's execution: two
// servers over one database, one with the fast path and one without (DisableFastReads),
// answer the same requests through HTTP, and every answer must be the same bytes. Each
// server counts which execution served a query, so a test also fails when the fast path
// silently declines what it should serve (or serves what gqlgen must answer).

// readPair is the two servers and the callers of the fixture.
type readPair struct {
	fast, gqlgen *apitest.Env
	// callers: an admin, a dispatcher of the fixture's area, a dispatcher of another area
	// (who sees a bill of the first area's parents but none of them), a biller, and nobody
	callers []caller
	// cursors of the fixture's lists, for after arguments
	cursors []string
	billID  string
}

type caller struct{ name, token string }

// fixture is made through the API: parents of lucknow and of jaipur with children, a
// parent of no area, two bills holding parents of both areas, unlinks (so the scan log
// holds several kinds) and a child's scans.
func newReadPair(t testing.TB) *readPair {
	t.Helper()
	fast := apitest.New(t)
	gqlgen := apitest.NewOn(t, fast.DatabaseURL, func(o *app.Options) { o.DisableFastReads = true })
	_, admin := fast.NewUser(t, db.RoleAdmin, "")
	_, lucknow := fast.NewUser(t, db.RoleDispatcher, "lucknow")
	_, jaipur := fast.NewUser(t, db.RoleDispatcher, "jaipur")
	_, biller := fast.NewUser(t, db.RoleBiller, "")
	scan := func(token, parent string, children int) {
		t.Helper()
		fast.MustDo(t, token, `mutation($q: String!) { scanParent(qr: $q) { id } }`, map[string]any{"q": parent}, &struct{}{})
		qrs := make([]string, children)
		for i := range qrs {
			qrs[i] = fmt.Sprintf("C%sX%02d", parent[2:], i)
		}
		if children > 0 {
			fast.MustDo(t, token, `mutation($p: String!, $c: [String!]!) { scanChildren(parentQr: $p, childQrs: $c) { rejected { code } } }`,
				map[string]any{"p": parent, "c": qrs}, &struct{}{})
		}
	}
	scan(lucknow, "SB00001", 30)
	scan(lucknow, "SB00002", 7)
	scan(lucknow, "SB00003", 0)
	scan(jaipur, "SB00004", 12)
	scan(jaipur, "SB00005", 1)
	scan(admin, "SB00006", 3)
	fast.MustDo(t, lucknow, `mutation { unlinkChild(childQr: "C00002X06") { qr } }`, nil, &struct{}{})
	var bill struct {
		CreateBill struct{ ID string } `json:"createBill"`
	}
	fast.MustDo(t, biller, `mutation { createBill(input: {billNumber: "FAST-1", capacity: 10, destination: "Delhi \"Mandi\"", description: "<&>"}) { id } }`, nil, &bill)
	fast.MustDo(t, biller, `mutation { createBill(input: {billNumber: "FAST-2", capacity: 3}) { id } }`, nil, &struct{}{})
	fast.MustDo(t, biller, `mutation($b: ID!) { linkBagsToBill(billId: $b, parentQrs: ["SB00004", "SB00001", "SB00005", "SB00002", "SB00006"]) { rejected { code } } }`,
		map[string]any{"b": bill.CreateBill.ID}, &struct{}{})
	fast.MustDo(t, biller, `mutation { unlinkBagFromBill(billId: "`+bill.CreateBill.ID+`", parentQr: "SB00005") { id } }`, nil, &struct{}{})
	p := &readPair{fast: fast, gqlgen: gqlgen, billID: bill.CreateBill.ID, callers: []caller{
		{"admin", admin}, {"dispatcher of the area", lucknow}, {"dispatcher of another area", jaipur},
		{"biller", biller}, {"nobody", ""}}}
	var lists struct {
		Bag struct {
			Children struct{ Edges []struct{ Cursor string } }
		}
		Bill struct {
			ParentBags struct{ Edges []struct{ Cursor string } }
		}
		Scans struct{ Edges []struct{ Cursor string } }
	}
	fast.MustDo(t, admin, `{ bag(qr: "SB00001") { children(first: 100) { edges { cursor } } }
		bill(billNumber: "FAST-1") { parentBags { edges { cursor } } } scans(first: 100) { edges { cursor } } }`, nil, &lists)
	for _, edges := range [][]struct{ Cursor string }{lists.Bag.Children.Edges, lists.Bill.ParentBags.Edges, lists.Scans.Edges} {
		for _, i := range []int{0, 1, len(edges) / 2, len(edges) - 2} {
			p.cursors = append(p.cursors, edges[i].Cursor)
		}
	}
	return p
}

// compare sends the request to both servers as the caller and fails unless the answers are
// the same bytes with the same status. It returns whether the fast path served it (and
// fails when it served an answer with errors: those are gqlgen's alone).
func (p *readPair) compare(t *testing.T, who caller, query string, variables map[string]any) (served bool, answer string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	before, _ := p.fast.App.FastReads()
	fastStatus, _, fastBody := p.fast.Send(t, http.MethodPost, who.token, "/graphql", "application/json", body)
	after, _ := p.fast.App.FastReads()
	served = after > before
	slowStatus, _, slowBody := p.gqlgen.Send(t, http.MethodPost, who.token, "/graphql", "application/json", body)
	// gqlgen resolves root fields concurrently and lists their errors as they come: two of its
	// own answers may order errors differently, one of the fast path's may not
	if fastStatus != slowStatus || fastBody != slowBody && (served || errorsSorted(t, fastBody) != errorsSorted(t, slowBody)) {
		t.Fatalf("%s, %s %v:\nfast path: %d %s\ngqlgen:    %d %s", who.name, query, variables, fastStatus, fastBody, slowStatus, slowBody)
	}
	var resp apitest.Response
	if err := json.Unmarshal([]byte(fastBody), &resp); err != nil {
		t.Fatalf("%s: %s", query, fastBody)
	}
	if served && len(resp.Errors) > 0 {
		t.Fatalf("%s, %s: the fast path served an answer with errors: %s", who.name, query, fastBody)
	}
	return served, fastBody
}

// fastReadCorpus are the shapes the fast path serves (fast: it must serve them when gqlgen
// answers without errors) and, around them, shapes it leaves to gqlgen.
var fastReadCorpus = []struct {
	name, query string
	variables   map[string]any
	fast        bool
}{
	{"bag tree", `{bag(qr:"SB00001"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`, nil, true},
	{"bill page", `{bill(billNumber:"FAST-1"){billNumber parentBagCount parentBags(first:50){edges{node{qr childCount}}}}}`, nil, true},
	{"newest scans", `{scans(first:50){edges{node{id kind at bagQr}}}}`, nil, true},
	{"every field of a bag tree", `{bag(qr:"SB00002"){__typename id qr type status childCount createdAt updatedAt
		children{__typename totalCount pageInfo{__typename hasNextPage endCursor}
		edges{__typename cursor node{__typename id qr type status childCount createdAt updatedAt}}}}}`, nil, true},
	{"every field of a bill page", `{bill(billNumber:"fast-1"){__typename id billNumber description destination vehicleNumber capacity
		status parentBagCount childBagCount createdAt updatedAt completedAt
		parentBags(first:2){__typename totalCount pageInfo{hasNextPage endCursor} edges{cursor node{id qr status childCount}}}}}`, nil, true},
	{"every field of the scans", `{scans(first:7){__typename pageInfo{__typename hasNextPage endCursor}
		edges{__typename cursor node{__typename id kind at bagQr}}}}`, nil, true},
	{"two selections of one page asking for other columns", `{bill(billNumber:"FAST-1"){a:parentBags(first:3){edges{node{qr}}}
		b:parentBags(first:3){edges{node{id createdAt}}}} bag(qr:"SB00001"){a:children(first:3){edges{node{type}}} b:children(first:3){edges{node{updatedAt status}}}}}`, nil, true},
	{"a page of no column of its bags", `{bill(billNumber:"FAST-1"){parentBags{edges{cursor node{__typename}}}} bag(qr:"SB00001"){children{pageInfo{endCursor}}}}`, nil, true},
	{"a bill without parent bags", `{bill(billNumber:"FAST-2"){billNumber parentBags{totalCount pageInfo{hasNextPage endCursor} edges{node{qr}}}}}`, nil, true},
	{"a bill by id", `query($id: ID) {bill(id: $id){billNumber status}}`, map[string]any{"id": "bill"}, true},
	{"a child bag's children", `{bag(qr:"C00001X03"){qr type status childCount children{totalCount pageInfo{hasNextPage endCursor} edges{node{qr}}}}}`, nil, true},
	{"an empty parent", `{bag(qr:" sb00003 "){qr status children{totalCount edges{cursor}}}}`, nil, true},
	{"no such bag", `{bag(qr:"SB09999"){qr children{edges{node{qr}}}}}`, nil, true},
	{"no such bill", `{bill(billNumber:"NOPE-1"){billNumber parentBags{edges{node{qr}}}}}`, nil, true},
	{"aliases and several roots", `{a:bag(qr:"SB00001"){x:qr y:qr kids:children(first:2){e:edges{n:node{q:qr}} p:pageInfo{more:hasNextPage}}}
		b:bag(qr:"SB00004"){qr} t:__typename s:scans(first:3){edges{node{bagQr}}} __typename}`, nil, true},
	{"fragments", `query Q { bag(qr: "SB00001") { ...B ... on Node { id } ... on Bag { children(first: 3) { ...C } } } }
		fragment B on Bag { qr ... on Bag { status } }
		fragment C on BagConnection { edges { node { ...B ... { createdAt } } } pageInfo { ...P } }
		fragment P on PageInfo { endCursor }`, nil, true},
	{"fragments on the scans", `{ scans(first: 4) { ... on ScanConnection { edges { ... on ScanEdge { node { ... on Scan { id } ...S } } } } } }
		fragment S on Node { id ... on Scan { kind } }`, nil, true},
	{"skip and include", `query($yes: Boolean!, $no: Boolean!) { bag(qr: "SB00002") { qr @skip(if: $yes) status @include(if: $yes)
		childCount @skip(if: false) type @include(if: false) children(first: 3) @include(if: $yes) { edges @skip(if: $no) { node { qr } } }
		... on Bag @skip(if: $yes) { createdAt } ...F @include(if: $no) } } fragment F on Bag { updatedAt }`,
		map[string]any{"yes": true, "no": false}, true},
	{"a page by variables", `query($q: String!, $n: Int, $c: String) { bag(qr: $q) { children(first: $n, after: $c) { edges { cursor node { qr } } pageInfo { hasNextPage endCursor } } } }`,
		map[string]any{"q": "SB00001", "n": 5, "c": "cursor"}, true},
	{"a page of null arguments", `query($n: Int, $c: String) { scans(first: $n, after: $c) { edges { node { id } } } bill(billNumber: "FAST-1") { parentBags(first: $n, after: $c) { edges { node { qr } } } } }`,
		map[string]any{"n": nil, "c": nil}, true},
	{"scans after a cursor", `query($c: String) { scans(first: 5, after: $c) { edges { cursor node { id bagQr } } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"c": "cursor"}, true},
	{"an empty page", `{scans(first:0){edges{node{id}} pageInfo{hasNextPage endCursor}} bag(qr:"SB00001"){children(first:0){totalCount edges{cursor}}}}`, nil, true},
	{"the largest page", `{scans(first:100){edges{cursor}} bag(qr:"SB00001"){children(first:100){edges{node{qr}}}}}`, nil, true},
	{"only __typename", `{__typename}`, nil, true},
	// the field test's dashboard and stats (cmd/loadgen): the counters in the caller's scope,
	// the newest scans with their users as the caller may see them
	{"the dashboard", `{ stats { parentBags childBags bills openBills totalScans scansToday }
		scans(first: 20) { edges { node { id kind at bagQr user { username } } } } }`, nil, true},
	{"every field of the stats", `{stats{__typename parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users}}`, nil, true},
	{"the stats of an area", `{stats(areaCode:"lucknow"){parentBags childBags totalScans scansToday users}}`, nil, true},
	{"the stats of an area by variable", `query($a: String) {s: stats(areaCode: $a){... on Stats {users} ...T}} fragment T on Stats {totalScans bills}`,
		map[string]any{"a": "jaipur"}, true},
	{"the stats of no area by variable", `query($a: String) {stats(areaCode: $a){parentBags}}`, map[string]any{"a": nil}, true},
	{"every field of the scans' users", `{scans(first:30){edges{node{kind user{__typename username email role active createdAt lastLoginAt}}}}}`, nil, true},
	{"the scans' users in fragments", `{scans(first:9){edges{node{...S}}}} fragment S on Scan {u: user {...on User {username} ...U} user @include(if: true) {role}}
		fragment U on User {r: role email}`, nil, true},
	// the field test's lists (cmd/loadgen): parents, a biller's unbilled ones, a
	// dispatcher's parents with room under a QR prefix, the bills
	{"the bag list", `query($f: BagFilter) { bags(first: 20, filter: $f) { totalCount edges { node { qr status childCount weightKg createdAt } } } }`,
		map[string]any{"f": map[string]any{"type": "PARENT"}}, true},
	{"the unbilled parents", `query($f: BagFilter) { bags(first: 20, filter: $f) { totalCount edges { node { qr status childCount weightKg createdAt } } } }`,
		map[string]any{"f": map[string]any{"type": "PARENT", "billed": false}}, true},
	{"parents with room", `query($s: BagStatus!, $p: String!) { bags(first: 50, filter: {type: PARENT, status: $s, qrPrefix: $p}) { edges { node { qr } } } }`,
		map[string]any{"s": "IN_PROGRESS", "p": "sb0"}, true},
	{"every filter of a bag list", `{bags(first:7, filter:{type:CHILD, status:COMPLETED, areaCode:"lucknow", qrPrefix:"C0000", search:"X0",
		createdAfter:"2000-01-01T00:00:00Z", createdBefore:"2100-01-01T00:00:00+05:30", billed:null}){__typename totalCount
		pageInfo{hasNextPage endCursor} edges{cursor node{__typename id qr type status childCount weightKg createdAt updatedAt}}}}`, nil, true},
	{"billed parents of an area by variables", `query($a: String, $b: Boolean) { bags(filter: {areaCode: $a, billed: $b}) { totalCount edges { node { qr } } } }`,
		map[string]any{"a": "jaipur", "b": true}, true},
	{"a bag list after a cursor", `query($c: String) { bags(first: 3, after: $c) { edges { cursor node { qr weightKg } } pageInfo { hasNextPage endCursor } } }`,
		map[string]any{"c": "cursor"}, true},
	{"the bill list", `{ bills(first: 20) { totalCount edges { node { id billNumber status capacity parentBagCount childBagCount totalWeightKg createdAt } } } }`, nil, true},
	{"every field of a bill list", `{bills(first:1){__typename totalCount pageInfo{__typename hasNextPage endCursor} edges{__typename cursor node{__typename id billNumber
		description destination vehicleNumber capacity status parentBagCount childBagCount totalWeightKg expectedWeightKg createdAt updatedAt completedAt}}}}`, nil, true},
	{"a bill list after a cursor", `query($c: String) { bills(first: 1, after: $c) { edges { node { billNumber } } pageInfo { hasNextPage } } }`,
		map[string]any{"c": "cursor"}, true},
	{"a page of scans and its users after a cursor", `query($c: String) { scans(first: 5, after: $c) { edges { node { user { username } } } } }`,
		map[string]any{"c": "cursor"}, true},
	// left to gqlgen: errors (they are gqlgen's to word), and fields the fast path does not know
	{"a malformed QR", `{bag(qr:"S?"){qr}}`, nil, false},
	{"a page too large", `{scans(first:101){edges{node{id}}}}`, nil, false},
	{"a negative page", `{bag(qr:"SB00001"){children(first:-1){edges{node{qr}}}}}`, nil, false},
	{"a foreign cursor", `{bill(billNumber:"FAST-1"){parentBags(after:"bm9wZQ"){edges{node{qr}}}}}`, nil, false},
	{"a text NUL", `query($q: String!) {bag(qr: $q){qr}}`, map[string]any{"q": "SB\u0000"}, false},
	{"both bill keys", `{bill(id:"x", billNumber:"FAST-1"){billNumber}}`, nil, false},
	{"a bag's area", `{bag(qr:"SB00001"){qr area{code}}}`, nil, false},
	{"a bag's weight", `{bag(qr:"SB00001"){qr weightKg}}`, nil, true},
	{"a bill's weights", `{bill(billNumber:"FAST-1"){totalWeightKg expectedWeightKg parentBags{edges{node{weightKg}}}}}`, nil, true},
	{"a bill's parents' areas", `{bill(billNumber:"FAST-1"){parentBags{edges{node{qr childCount area{code}}}}}}`, nil, false},
	{"a bill's parents' children", `{bill(billNumber:"FAST-1"){parentBags{edges{node{qr children{edges{node{qr}}}}}}}}`, nil, false},
	{"a scan's bag", `{scans(first:3){edges{node{id bag{qr}}}}}`, nil, false},
	{"a scan's user's id", `{scans(first:3){edges{node{user{id username}}}}}`, nil, false},
	{"a scan's user's area", `{scans(first:3){edges{node{user{username area{code}}}}}}`, nil, false},
	{"the stats of no such area", `{stats(areaCode:"nowhere"){parentBags}}`, nil, false},
	{"the integrity report", `{stats{users} integrity{ok}}`, nil, false},
	{"a listed bag's children", `{bags(first:3){edges{node{qr children{edges{node{qr}}}}}}}`, nil, false},
	{"a listed bag's area", `{bags(first:3){edges{node{qr area{code}}}}}`, nil, false},
	{"a bag list of another area", `{bags(filter:{areaCode:"nowhere"}){edges{node{qr}}}}`, nil, false},
	{"a bag list of a bad date", `{bags(filter:{createdAfter:"yesterday"}){edges{node{qr}}}}`, nil, false},
	{"filtered bills", `{bills(filter:{status:OPEN}){edges{node{billNumber}}}}`, nil, false},
	{"a listed bill's parents", `{bills{edges{node{parentBags{edges{node{qr}}}}}}}`, nil, false},
	{"filtered scans", `{scans(first:3, filter:{kinds:[CHILD_LINKED]}){edges{node{id}}}}`, nil, false},
	{"another root", `{bag(qr:"SB00001"){qr} stats{bags}}`, nil, false},
	{"introspection", `{__schema{queryType{name}} bag(qr:"SB00001"){qr}}`, nil, false},
	{"a mutation", `mutation { scanParent(qr: "S?") { qr } }`, nil, false},
	{"not valid", `{bag(qr:"SB00001"){qr nope}}`, nil, false},
}

func TestFastReadsMatchGqlgen(t *testing.T) {
	t.Parallel()
	p := newReadPair(t)
	for _, c := range fastReadCorpus {
		for _, who := range p.callers {
			for _, variables := range p.variants(c.variables) {
				served, answer := p.compare(t, who, c.query, variables)
				if want := c.fast && !hasErrors(answer); served != want {
					t.Errorf("%s as %s %v: served by the fast path %v, want %v: %s", c.name, who.name, variables, served, want, answer)
				}
			}
		}
	}
}

// variants fills the placeholders of a corpus entry's variables: "cursor" with each of the
// fixture's cursors, "bill" with the bill's id.
func (p *readPair) variants(variables map[string]any) []map[string]any {
	out := []map[string]any{variables}
	for name, v := range variables {
		switch v {
		case "bill":
			out[0] = with(variables, name, p.billID)
		case "cursor":
			out = out[:0]
			for _, cursor := range p.cursors {
				out = append(out, with(variables, name, cursor))
			}
		}
	}
	return out
}

func with(variables map[string]any, name string, value any) map[string]any {
	out := make(map[string]any, len(variables))
	for k, v := range variables {
		out[k] = v
	}
	out[name] = value
	return out
}

// errorsSorted is the answer with its errors in a fixed order.
func errorsSorted(t *testing.T, answer string) string {
	t.Helper()
	var resp map[string]json.RawMessage
	var errs []json.RawMessage
	if json.Unmarshal([]byte(answer), &resp) != nil || json.Unmarshal(resp["errors"], &errs) != nil && resp["errors"] != nil {
		t.Fatalf("not a GraphQL answer: %s", answer)
	}
	sort.Slice(errs, func(i, j int) bool { return string(errs[i]) < string(errs[j]) })
	resp["errors"], _ = json.Marshal(errs)
	sorted, _ := json.Marshal(resp)
	return string(sorted)
}

func hasErrors(answer string) bool {
	var resp apitest.Response
	_ = json.Unmarshal([]byte(answer), &resp)
	return len(resp.Errors) > 0
}
