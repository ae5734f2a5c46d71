package resolvers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/loaders"
)

// treeFixture fills a fresh database with parents, each with children, created by a few
// users, and a scan per bag: everything a deep query can walk.
func treeFixture(t testing.TB, env *apitest.Env, parents, childrenEach int) {
	t.Helper()
	mustExec(t, env, `INSERT INTO users (username, password_hash, role) SELECT 'maker'||g, 'x', 'BILLER' FROM generate_series(1, 5) g`)
	mustExec(t, env, `
		INSERT INTO bags (qr, type, area_id, created_by)
		SELECT 'SB'||lpad(g::text, 5, '0'), 'PARENT', 1, (SELECT min(id) FROM users) + g % 5
		FROM generate_series(1, $1) g`, parents)
	mustExec(t, env, `
		INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		SELECT 'K'||p.id||'X'||k, 'CHILD', p.id, 1, p.created_by
		FROM bags p, generate_series(1, $1) k WHERE p.type = 'PARENT'`, childrenEach)
	mustExec(t, env, `
		INSERT INTO scans (kind, bag_qr, bag_id, parent_id, user_id, area_id)
		SELECT CASE type WHEN 'PARENT' THEN 'PARENT_SCANNED' ELSE 'CHILD_LINKED' END, qr, id, parent_id, created_by, area_id
		FROM bags ORDER BY id`)
}

// statements runs the query and returns how many SQL statements it took.
func statements(t *testing.T, env *apitest.Env, token, query string) int {
	t.Helper()
	resp := env.Do(t, token, query, nil)
	if len(resp.Errors) > 0 {
		t.Fatalf("%s: %v", query, resp.Errors)
	}
	n, ok := resp.Extensions["sqlStatements"].(float64)
	if !ok {
		t.Fatalf("no sqlStatements extension in %v", resp.Extensions)
	}
	return int(n)
}

// statementRuns is how often a statement count is measured before its fewest is taken.
const statementRuns = 5

// splitBatches is how many statements over its bound a query may take after statementRuns
// runs: a loader whose goroutines start further apart than its wait (a machine saturated by
// other test binaries) splits a batch now and then, costing one statement a split. It is far
// below a statement per row of the rows the fixtures add between sizes (checkNoGrowth
// insists), so an N+1 pattern, which costs its statements on every run, still fails.
const splitBatches = 2

// fewestStatements runs the query up to statementRuns times, until it takes at most most
// statements, and returns the fewest it took.
func fewestStatements(t *testing.T, env *apitest.Env, token, query string, most int) int {
	t.Helper()
	fewest := statements(t, env, token, query)
	for range statementRuns - 1 {
		if fewest <= most {
			break
		}
		fewest = min(fewest, statements(t, env, token, query))
	}
	return fewest
}

// checkAtMost fails when the fewest of the runs is over the bound by more than split batches
// explain; a count over the bound but within them is logged.
func checkAtMost(t *testing.T, what string, rows, n, most int) {
	t.Helper()
	switch {
	case n > most+splitBatches:
		t.Errorf("%s over %d: %d statements, want at most %d", what, rows, n, most)
	case n > most:
		t.Logf("%s over %d: %d statements in the best of %d runs, %d over the bound (batches split by a loaded machine)",
			what, rows, n, statementRuns, n-most)
	}
}

// fewestAgain measures the query over the larger fixture: up to statementRuns runs, until it takes no
// more statements than the smaller fixture's fewest (smaller), or the at-most bound when it is
// the first measure (smaller < 0). Stopping at the bound alone would stop at a split batch and
// then compare it with an unsplit one.
func fewestAgain(t *testing.T, env *apitest.Env, token, query string, most, smaller int) int {
	t.Helper()
	if smaller >= 0 {
		most = min(most, smaller)
	}
	return fewestStatements(t, env, token, query, most)
}

// checkNoGrowth fails when the larger fixture took more statements than the smaller one,
// beyond the batches a loaded machine may split: a statement per row costs one for each row
// the larger fixture adds, on every run, which the fixtures make many times splitBatches.
func checkNoGrowth(t *testing.T, what string, smallRows, largeRows, small, large int) {
	t.Helper()
	if largeRows-smallRows < 10*splitBatches {
		t.Fatalf("%s: fixtures of %d and %d rows are too close to tell a statement per row from split batches", what, smallRows, largeRows)
	}
	if large > small+splitBatches {
		t.Errorf("%s: %d statements over %d but %d over %d: the count depends on rows", what, small, smallRows, large, largeRows)
	}
}

func TestStatementsGrowWithDepthNotRows(t *testing.T) {
	t.Parallel()
	queries := []struct {
		name, query string
		most        int
	}{
		// bags, children, createdBy, scans of the children
		{"bags.children.scans", `{ bags(first: %d, filter: {type: PARENT}) { edges { node { qr children(first: 30) { edges { node { qr createdBy { username } scans(first: 5) { edges { node { kind } } } } } } } } } }`, 4},
		// scans, their bags, those bags' parents, the parents' bills
		{"scans.bag.parent.bill", `{ scans(first: %d) { edges { node { kind bag { qr parent { qr bill { billNumber } } } user { username } } } } }`, 5},
	}
	counts := map[string]int{}
	sizes := []int{5, 40}
	// a long loader wait keeps the counts exact on a busy CI machine, where goroutines of one
	// level may start further apart than production's 2 ms
	for i, size := range sizes {
		env := apitest.New(t, func(o *app.Options) {
			o.DebugSQLCount = true
			o.Loaders = loaders.Settings{Wait: 500 * time.Millisecond, MaxBatch: 1000}
		})
		_, token := env.NewUser(t, db.RoleAdmin, "")
		treeFixture(t, env, size, 10)
		for _, q := range queries {
			smaller, measured := counts[q.name]
			if !measured {
				smaller = -1
			}
			n := fewestAgain(t, env, token, fmt.Sprintf(q.query, size), q.most, smaller)
			checkAtMost(t, q.name+" (parents)", size, n, q.most)
			if measured {
				checkNoGrowth(t, q.name, sizes[i-1], size, smaller, n)
			}
			counts[q.name] = n
		}
	}
}

func TestBatchedChildrenAreEachParentsOwnInOrder(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	treeFixture(t, env, 6, 7)
	var got struct {
		Bags struct {
			Edges []struct {
				Node struct {
					QR       string
					ID       string
					Children struct {
						PageInfo struct{ HasNextPage bool }
						Edges    []struct {
							Node struct {
								QR     string
								Parent struct{ QR string }
							}
						}
					}
				}
			}
		}
	}
	env.MustDo(t, token, `{ bags(first: 6, filter: {type: PARENT}) { edges { node { qr children(first: 3) { pageInfo { hasNextPage } edges { node { qr parent { qr } } } } } } } }`, nil, &got)
	if len(got.Bags.Edges) != 6 {
		t.Fatalf("got %d parents", len(got.Bags.Edges))
	}
	for _, p := range got.Bags.Edges {
		kids := p.Node.Children
		if len(kids.Edges) != 3 || !kids.PageInfo.HasNextPage {
			t.Errorf("%s: %d children on the first page (next %v), want 3 of 7", p.Node.QR, len(kids.Edges), kids.PageInfo.HasNextPage)
		}
		for i, k := range kids.Edges {
			if k.Node.Parent.QR != p.Node.QR {
				t.Errorf("%s got the child %s of %s", p.Node.QR, k.Node.QR, k.Node.Parent.QR)
			}
			if i > 0 && k.Node.QR <= kids.Edges[i-1].Node.QR {
				t.Errorf("%s: children out of link order: %s after %s", p.Node.QR, k.Node.QR, kids.Edges[i-1].Node.QR)
			}
		}
	}
}

// billTreeFixture makes bills of parents of children: bills x parentsEach x childrenEach.
func billTreeFixture(t testing.TB, env *apitest.Env, bills, parentsEach, childrenEach int) {
	t.Helper()
	treeFixture(t, env, bills*parentsEach, childrenEach)
	mustExec(t, env, `INSERT INTO bills (bill_number, capacity, created_by)
		SELECT 'DEEP-'||g, $2, (SELECT min(id) FROM users) FROM generate_series(1, $1) g`, bills, parentsEach)
	mustExec(t, env, `
		INSERT INTO bill_bags (bag_id, bill_id)
		SELECT p.id, b.id
		FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM bags WHERE type = 'PARENT') p
		JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM bills) b ON b.n = p.n / $1`, parentsEach)
}

const deepBillQuery = `{ bills(first: 50) { edges { node { billNumber parentBags(first: 50) { edges { node { qr
	children(first: 30) { edges { node { qr createdBy { username } } } } } } } } } } }`

// deepBillQueryCounted adds the parent bags' totalCount, which a dispatcher's loaders count
// over their own area.
const deepBillQueryCounted = `{ bills(first: 50) { edges { node { billNumber parentBags(first: 30) { totalCount edges { node { qr
	children(first: 30) { totalCount edges { node { qr createdBy { username email } } } } } } } } } } }`

func TestDeepBillQueryStatements(t *testing.T) {
	t.Parallel()
	smaller, smallerScoped := -1, -1
	sizes := []int{5, 50}
	for i, bills := range sizes {
		env := apitest.New(t, func(o *app.Options) {
			o.DebugSQLCount = true
			o.Loaders = loaders.Settings{Wait: 500 * time.Millisecond, MaxBatch: 1000}
		})
		_, token := env.NewUser(t, db.RoleAdmin, "")
		billTreeFixture(t, env, bills, 20, 30)
		n := fewestAgain(t, env, token, deepBillQuery, 6, smaller)
		checkAtMost(t, "bills -> parents -> children -> createdBy (bills)", bills, n, 6)
		t.Logf("%d bills x 20 parents x 30 children: %d statements", bills, n)
		// a dispatcher's scoped parentBags and their totalCount (counted over the area, one
		// statement for every bill of the level): 6, as many at 50 bills as at 5, while a
		// count per bill would cost 45 more
		area, err := env.Store.AreaByID(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		_, dispatcher := env.NewUser(t, db.RoleDispatcher, area.Code)
		scoped := fewestAgain(t, env, dispatcher, deepBillQueryCounted, 6, smallerScoped)
		checkAtMost(t, "a dispatcher's bills -> parents (counted) -> children (bills)", bills, scoped, 6)
		t.Logf("the same, a dispatcher with totalCounts: %d statements", scoped)
		if i > 0 {
			checkNoGrowth(t, "bills -> parents -> children -> createdBy", sizes[i-1], bills, smaller, n)
			checkNoGrowth(t, "a dispatcher's bills -> parents (counted) -> children", sizes[i-1], bills, smallerScoped, scoped)
		}
		smaller, smallerScoped = n, scoped
	}
}
