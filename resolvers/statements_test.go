package resolvers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/loaders"
)

// countingServer serves the real handler over HTTP and counts the SQL statements a request
// runs outside its GraphQL operation (the bearer token's); the sqlStatements extension
// counts the operation's on a counter of its own.
type countingServer struct {
	url  string
	mu   sync.Mutex
	last int64
}

func newCountingServer(t *testing.T, env *apitest.Env) *countingServer {
	t.Helper()
	cs := &countingServer{}
	handler := env.App.Handler()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, counter := db.WithStatementCounter(r.Context())
		handler.ServeHTTP(w, r.WithContext(ctx))
		cs.mu.Lock()
		cs.last = counter.Count()
		cs.mu.Unlock()
	}))
	t.Cleanup(server.Close)
	cs.url = server.URL + "/graphql"
	return cs
}

// do posts the query and returns the response and the statements run outside the operation.
func (cs *countingServer) do(t *testing.T, token, query string, variables map[string]any) (*apitest.Response, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	req, _ := http.NewRequest(http.MethodPost, cs.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out apitest.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return &out, int(cs.last)
}

// TestReadShapesRunOneStatement: the three read shapes of the side-by-side benchmark, and
// the general shapes around them, run the statements their plan says, counted through HTTP
// as a client sends them. data is the operation's statements (the sqlStatements extension);
// with the token cached, nothing else runs: the whole request is those statements.
func TestReadShapesRunOneStatement(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.DebugSQLCount = true
		// a long loader wait: a batch split by a busy machine must not look like a plan
		o.Loaders = loaders.Settings{Wait: 500 * time.Millisecond, MaxBatch: 1000}
	})
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	other, err := env.Store.AreaByID(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	_, stranger := env.NewUser(t, db.RoleDispatcher, other.Code) // the fixture's bags are all of area 1
	readShapeFixture(t, env)
	// the newest scans are of two users (the dashboard loads both in one batch)
	for _, token := range []string{stranger, admin} {
		env.MustDo(t, token, `mutation { scanParent(qr: "SB09001") { qr } }`, nil, &struct{}{})
	}
	cs := newCountingServer(t, env)
	// the first request of a token reads it; from then on the token cache answers, so the
	// whole request is the operation's statements and nothing else
	for _, token := range []string{admin, stranger} {
		if first, _ := cs.do(t, token, `{__typename}`, nil); len(first.Errors) > 0 {
			t.Fatalf("{__typename}: %+v", first.Errors)
		}
	}
	authOnly, auth := cs.do(t, admin, `{__typename}`, nil)
	if len(authOnly.Errors) > 0 || authOnly.Extensions["sqlStatements"] != float64(0) || auth != 0 {
		t.Fatalf("{__typename} with a cached token: %d statements around the operation, %+v", auth, authOnly)
	}
	// the plan keeps the area scope: another area's bag tree is refused, children and all
	if resp, _ := cs.do(t, stranger, readShapeQuery(readShapes[0].query, 1), nil); resp.Code() != "FORBIDDEN" || string(resp.Data) != `{"bag":null}` {
		t.Errorf("another area's bag tree: %s %+v", resp.Data, resp.Errors)
	}
	for _, c := range []struct {
		name, token, query string
		variables          map[string]any
		data               int
	}{
		{"bagtree", admin, readShapeQuery(readShapes[0].query, 1), nil, 1},
		{"billpage", admin, readShapeQuery(readShapes[1].query, 1), nil, 1},
		{"recentscans", admin, readShapeQuery(readShapes[2].query, 1), nil, 1},
		{"bag without children", admin, `{bag(qr:"SB00001"){qr childCount}}`, nil, 1},
		{"children by variables, in a fragment", admin,
			`query($q: String!, $n: Int, $c: String) { bag(qr: $q) { ... on Bag { children(first: $n, after: $c) { edges { node { qr } } } } } }`,
			map[string]any{"q": "SB00002", "n": 5, "c": nil}, 1},
		{"children's default page", admin, `{bag(qr:"SB00003"){children{edges{node{qr}}}}}`, nil, 1},
		{"a child bag's children", admin, `{bag(qr:"K1X1"){children{edges{node{qr}}}}}`, nil, 1},
		{"children and their creators", admin, `{bag(qr:"SB00001"){children{edges{node{qr createdBy{username}}}}}}`, nil, 2},
		{"two pages of children", admin, `{bag(qr:"SB00001"){a:children(first:2){edges{node{qr}}} b:children(first:3){edges{node{qr}}}}}`, nil, 2},
		{"bill without parentBags", admin, `{bill(billNumber:"DEEP-2"){billNumber parentBagCount}}`, nil, 1},
		// the page is read with the columns its nodes ask for, and found under them
		{"bill page of every column of its parents", admin, `{bill(billNumber:"DEEP-2"){parentBags{edges{node{__typename id qr type status childCount createdAt updatedAt}}}}}`, nil, 1},
		{"bill page of no column of its parents", admin, `{bill(billNumber:"DEEP-2"){parentBags{pageInfo{hasNextPage} edges{cursor node{__typename}}}}}`, nil, 1},
		{"bag tree of every column of its children", admin, `{bag(qr:"SB00001"){children{edges{node{id qr type status childCount createdAt updatedAt}}}}}`, nil, 1},
		{"bill page of parents' resolved fields", admin, `{bill(billNumber:"DEEP-2"){parentBags{edges{node{qr weightKg area{code}}}}}}`, nil, 1},
		{"bill page of parents' fields in fragments", admin, `{bill(billNumber:"DEEP-2"){...on Bill{parentBags(first:5){...C}}}} fragment C on BagConnection{edges{...on BagEdge{node{...on Node{id} ...on Bag{qr}}}}}`, nil, 1},
		// a second selection of the same page asking for other columns loads them
		{"two selections of one bill page", admin, `{bill(billNumber:"DEEP-2"){a:parentBags(first:5){edges{node{qr}}} b:parentBags(first:5){edges{node{createdAt}}}}}`, nil, 2},
		{"bill page with parents' children", admin, `{bill(billNumber:"DEEP-2"){parentBags(first:10){edges{node{qr children(first:3){edges{node{qr}}}}}}}}`, nil, 2},
		{"bill page of a dispatcher who sees none of its parents", stranger, readShapeQuery(readShapes[1].query, 3), nil, 2},
		// no row to carry the bill: the bill alone is asked again
		{"no such bill", admin, `{bill(billNumber:"NOPE-1"){parentBags{edges{node{qr}}}}}`, nil, 2},
		{"scans with their bags", admin, `{scans(first:50){edges{node{kind bag{qr}}}}}`, nil, 2},
		// a scan page is read with the columns its nodes ask for, in its one statement
		{"scans of every field of their own", admin, `{scans(first:50){edges{node{__typename id kind at bagQr}}}}`, nil, 1},
		{"scans of no field", admin, `{scans{pageInfo{hasNextPage endCursor} edges{cursor node{__typename}}}}`, nil, 1},
		{"a dispatcher's scans", stranger, readShapeQuery(readShapes[2].query, 1), nil, 1},
		// the field test's dashboard (cmd/loadgen): the stats, the page, its users in one batch
		{"the dashboard", admin, `{stats{parentBags childBags bills openBills totalScans scansToday}
			scans(first:20){edges{node{id kind at bagQr user{username}}}}}`, nil, 3},
		{"the bag list", admin, `{bags(first:20, filter:{type:PARENT, billed:false}){totalCount edges{node{qr status childCount weightKg createdAt}}}}`, nil, 2},
		{"the bill list", admin, `{bills(first:20){totalCount edges{node{id billNumber status capacity parentBagCount childBagCount totalWeightKg createdAt}}}}`, nil, 2},
		{"the dashboard of a dispatcher of another area", stranger, `{stats{parentBags scansToday} scans(first:20){edges{node{kind user{username}}}}}`, nil, 3},
	} {
		// the fewest of a few runs: past the plan's one statement, a shape's loader batches can
		// split on a loaded machine; a plan that does not hold costs its statements every run
		data, whole := -1, 0
		for run := 0; run < statementRuns && data != c.data; run++ {
			resp, around := cs.do(t, c.token, c.query, c.variables)
			if len(resp.Errors) > 0 {
				t.Fatalf("%s: %+v", c.name, resp.Errors)
			}
			n, _ := resp.Extensions["sqlStatements"].(float64)
			if data < 0 || int(n) < data {
				data, whole = int(n), around
			}
		}
		// the operation counts its statements on its own counter, so around it only the rest
		if data != c.data || whole != auth {
			t.Errorf("%s: %v data statements and %d around them; want %d and %d", c.name, data, whole, c.data, auth)
		}
	}
}

// TestPlannedPagesMatchLoadedPages: a page fetched with its root (the plan) is the page the
// loader fetches for the same arguments, with the same cursors and hasNextPage, for an admin
// and for a dispatcher of the area.
func TestPlannedPagesMatchLoadedPages(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	area, err := env.Store.AreaByID(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, area.Code)
	readShapeFixture(t, env)
	// the plan reads only the columns a page's nodes ask for, the loader every column: each
	// field alone, and all together, must come out the same
	pages := []string{`{ pageInfo { hasNextPage endCursor } edges { cursor node { qr childCount } } }`,
		`{ edges { node { __typename id qr type status childCount createdAt updatedAt } } }`}
	for _, field := range []string{"id", "qr", "type", "status", "childCount", "createdAt", "updatedAt"} {
		pages = append(pages, `{ edges { node { `+field+` } } }`)
	}
	for _, token := range []string{admin, dispatcher} {
		for _, page := range pages {
			planMatchesLoad(t, env, token, page)
		}
	}
}

// planMatchesLoad holds the pages of children and parent bags that a root plans for page
// arguments to the pages that the loaders load, both selecting page.
func planMatchesLoad(t *testing.T, env *apitest.Env, token, page string) {
	t.Helper()
	for _, args := range []string{"(first: 7)", "(first: 30)", "(first: 0)", `(first: 5, after: "%s")`} {
		// the plan answers the first selection; the aliased twin under bags() is loaded
		planned := fmt.Sprintf(`{ bag(qr: "SB00004") { children%s %s } }`, args, page)
		loaded := fmt.Sprintf(`{ bags(first: 1, filter: {qrPrefix: "SB00004"}) { edges { node { children%s %s } } } }`, args, page)
		if strings.Contains(args, "%s") {
			cursor := firstCursor(t, env, token)
			planned, loaded = fmt.Sprintf(planned, cursor), fmt.Sprintf(loaded, cursor)
		}
		var p struct {
			Bag struct{ Children json.RawMessage }
		}
		var l struct {
			Bags struct {
				Edges []struct {
					Node struct{ Children json.RawMessage }
				}
			}
		}
		env.MustDo(t, token, planned, nil, &p)
		env.MustDo(t, token, loaded, nil, &l)
		if len(l.Bags.Edges) != 1 || !bytes.Equal(p.Bag.Children, l.Bags.Edges[0].Node.Children) {
			t.Errorf("children%s %s: planned %s, loaded %s", args, page, p.Bag.Children, l.Bags.Edges)
		}
	}
	for _, args := range []string{"(first: 7)", "(first: 50)", "(first: 0)"} {
		planned := fmt.Sprintf(`{ bill(billNumber: "DEEP-2") { parentBags%s %s } }`, args, page)
		loaded := fmt.Sprintf(`{ bills(first: 1, filter: {search: "DEEP-2"}) { edges { node { parentBags%s %s } } } }`, args, page)
		var p struct {
			Bill struct{ ParentBags json.RawMessage }
		}
		var l struct {
			Bills struct {
				Edges []struct {
					Node struct{ ParentBags json.RawMessage }
				}
			}
		}
		env.MustDo(t, token, planned, nil, &p)
		env.MustDo(t, token, loaded, nil, &l)
		if len(l.Bills.Edges) != 1 || !bytes.Equal(p.Bill.ParentBags, l.Bills.Edges[0].Node.ParentBags) {
			t.Errorf("parentBags%s %s: planned %s, loaded %s", args, page, p.Bill.ParentBags, l.Bills.Edges)
		}
	}
}

// firstCursor is the cursor of SB00004's third child.
func firstCursor(t *testing.T, env *apitest.Env, token string) string {
	t.Helper()
	var got struct {
		Bag struct {
			Children struct{ Edges []struct{ Cursor string } }
		}
	}
	env.MustDo(t, token, `{ bag(qr: "SB00004") { children(first: 3) { edges { cursor } } } }`, nil, &got)
	return got.Bag.Children.Edges[2].Cursor
}
