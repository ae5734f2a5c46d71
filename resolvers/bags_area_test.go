package resolvers_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestDispatcherAreaIsolation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, lucknow := env.NewUser(t, db.RoleDispatcher, "lucknow")
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	scanParent(t, env, lucknow, "SB50001")
	scanChildren(t, env, lucknow, "SB50001", "LKO00001")
	scanParent(t, env, jaipur, "SB50002")

	checks := []struct {
		name, query, code string
	}{
		{"read a lucknow parent", `{ bag(qr: "SB50001") { id } }`, "FORBIDDEN"},
		{"read a lucknow child", `{ bag(qr: "LKO00001") { id } }`, "FORBIDDEN"},
		{"scan a lucknow parent", `mutation { scanParent(qr: "SB50001") { id } }`, "FORBIDDEN"},
		{"unlink from a lucknow parent", `mutation { unlinkChild(childQr: "LKO00001") { id } }`, "FORBIDDEN"},
		{"list lucknow bags", `{ bags(filter: {areaCode: "lucknow"}) { totalCount } }`, "FORBIDDEN"},
		{"list lucknow scans", `{ scans(filter: {areaCode: "lucknow"}) { edges { cursor } } }`, "FORBIDDEN"},
	}
	for _, c := range checks {
		if code := env.Do(t, jaipur, c.query, nil).Code(); code != c.code {
			t.Errorf("jaipur dispatcher: %s: %q, want %s", c.name, code, c.code)
		}
	}
	// a call on a parent of another area returns nothing of it: a FORBIDDEN naming nothing
	into := env.Do(t, jaipur, `mutation { scanChildren(parentQr: "SB50001", childQrs: ["JPR00001"]) { parent { qr } linked { qr } } }`, nil)
	if into.Code() != "FORBIDDEN" || string(into.Data) != "null" || strings.Contains(into.Errors[0].Message, "SB50001") {
		t.Errorf("scanning into a lucknow parent: %s %+v", into.Data, into.Errors)
	}
	if code := env.Do(t, jaipur, `{ bag(qr: "JPR00001") { id } }`, nil).Code(); code != "" {
		t.Errorf("the refused child was linked: bag(qr) %q", code)
	}

	var own struct {
		Bags struct {
			TotalCount int
			Edges      []struct{ Node bagJSON }
		}
		Scans struct {
			Edges []struct{ Node struct{ BagQr string } }
		}
	}
	env.MustDo(t, jaipur, `{ bags { totalCount edges { node { qr } } } scans { edges { node { bagQr } } } }`, nil, &own)
	if own.Bags.TotalCount != 1 || own.Bags.Edges[0].Node.QR != "SB50002" {
		t.Errorf("jaipur's bag list: %+v", own.Bags)
	}
	for _, e := range own.Scans.Edges {
		if e.Node.BagQr != "SB50002" {
			t.Errorf("jaipur sees the scan of %s", e.Node.BagQr)
		}
	}
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	env.MustDo(t, admin, `{ bags(filter: {areaCode: "lucknow"}) { totalCount edges { node { qr } } } scans { edges { node { bagQr } } } }`, nil, &own)
	if own.Bags.TotalCount != 2 {
		t.Errorf("admin's lucknow list: %+v", own.Bags)
	}
}

func TestBagFiltersAndNestedFields(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleDispatcher, "akola")
	scanParent(t, env, token, "SB60001")
	scanParent(t, env, token, "M444-60002")
	scanChildren(t, env, token, "SB60001", "AKL0001", "AKL0002", "XYZ0003")
	mustExec(t, env, `INSERT INTO bills (bill_number, capacity) VALUES ('FLT-1', 5)`)
	mustExec(t, env, `INSERT INTO bill_bags (bag_id, bill_id) SELECT b.id, l.id FROM bags b, bills l WHERE b.qr = 'SB60001'`)

	count := func(filter string) int {
		var got struct{ Bags struct{ TotalCount int } }
		env.MustDo(t, token, `{ bags(filter: `+filter+`) { totalCount } }`, nil, &got)
		return got.Bags.TotalCount
	}
	for filter, want := range map[string]int{
		`{}`:                                      5,
		`{type: PARENT}`:                          2,
		`{type: CHILD}`:                           3,
		`{status: PENDING}`:                       1,
		`{status: IN_PROGRESS}`:                   1,
		`{qrPrefix: "akl"}`:                       2,
		`{qrPrefix: "M444-"}`:                     1,
		`{search: "L000"}`:                        2,
		`{billed: true}`:                          1,
		`{billed: false}`:                         1,
		`{createdAfter: "2000-01-01T00:00:00Z"}`:  5,
		`{createdBefore: "2000-01-01T00:00:00Z"}`: 0,
	} {
		if got := count(filter); got != want {
			t.Errorf("bags(filter: %s): %d, want %d", filter, got, want)
		}
	}
	if code := env.Do(t, token, `{ bags(filter: {search: "A"}) { totalCount } }`, nil).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("one-letter search: %q, want BAD_USER_INPUT", code)
	}

	var tree struct {
		Bag struct {
			Bill  struct{ BillNumber string }
			Scans struct {
				Edges []struct{ Node struct{ Kind string } }
			}
			Children struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						QR     string
						Parent struct{ QR string }
						Bill   struct{ BillNumber string }
					}
				}
			}
		}
	}
	env.MustDo(t, token, `{ bag(qr: "SB60001") { bill { billNumber } scans { edges { node { kind } } }
		children(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { qr parent { qr } bill { billNumber } } } } } }`, nil, &tree)
	c := tree.Bag.Children
	if c.TotalCount != 3 || !c.PageInfo.HasNextPage || len(c.Edges) != 2 || c.Edges[0].Node.QR != "AKL0001" ||
		c.Edges[1].Node.Parent.QR != "SB60001" || c.Edges[0].Node.Bill.BillNumber != "FLT-1" || tree.Bag.Bill.BillNumber != "FLT-1" {
		t.Errorf("bag tree: %+v", tree.Bag)
	}
	if len(tree.Bag.Scans.Edges) != 1 || tree.Bag.Scans.Edges[0].Node.Kind != "PARENT_SCANNED" {
		t.Errorf("parent's scans: %+v", tree.Bag.Scans)
	}
	env.MustDo(t, token, `query($a: String) { bag(qr: "SB60001") { children(first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { qr } } } } }`,
		map[string]any{"a": c.PageInfo.EndCursor}, &tree)
	if rest := tree.Bag.Children; len(rest.Edges) != 1 || rest.Edges[0].Node.QR != "XYZ0003" || rest.PageInfo.HasNextPage {
		t.Errorf("second page of children: %+v", rest)
	}
	unbilled := func() (int, []string) {
		var got struct {
			Bags struct {
				TotalCount int
				Edges      []struct{ Node struct{ QR string } }
			}
		}
		env.MustDo(t, token, `{ bags(filter: {billed: false}) { totalCount edges { node { qr } } } }`, nil, &got)
		var qrs []string
		for _, e := range got.Bags.Edges {
			qrs = append(qrs, e.Node.QR)
		}
		return got.Bags.TotalCount, qrs
	}
	if n, qrs := unbilled(); n != 1 || len(qrs) != 1 || qrs[0] != "M444-60002" {
		t.Errorf("unbilled parents: %d %v, want 1 [M444-60002]", n, qrs)
	}
	mustExec(t, env, `DELETE FROM bills WHERE bill_number = 'FLT-1'`) // its link goes with it
	if n, qrs := unbilled(); n != 2 || len(qrs) != 2 || qrs[0] != "M444-60002" || qrs[1] != "SB60001" {
		t.Errorf("unbilled parents after the bill's deletion: %d %v, want 2 [M444-60002 SB60001]", n, qrs)
	}
}

// TestBagPagesWhileInserting walks the bag list page by page while other goroutines keep
// scanning new parents: every bag that existed at the start is seen exactly once.
func TestBagPagesWhileInserting(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	for i := range 120 {
		env.MustDo(t, token, `mutation($q: String!) { scanParent(qr: $q) { id } }`, map[string]any{"q": fmt.Sprintf("SB7%04d", i)}, &struct{}{})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				env.DoNoT(token, `mutation($q: String!) { scanParent(qr: $q) { id } }`, map[string]any{"q": fmt.Sprintf("SB8%04d", i)})
			}
		}
	}()
	seen := map[string]int{}
	var after *string
	for {
		var page struct {
			Bags struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct{ Node struct{ QR string } }
			}
		}
		env.MustDo(t, token, `query($a: String) { bags(first: 7, after: $a) { pageInfo { hasNextPage endCursor } edges { node { qr } } } }`,
			map[string]any{"a": after}, &page)
		for _, e := range page.Bags.Edges {
			seen[e.Node.QR]++
		}
		if !page.Bags.PageInfo.HasNextPage {
			break
		}
		after = page.Bags.PageInfo.EndCursor
	}
	close(stop)
	wg.Wait()
	for qr, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", qr, n)
		}
	}
	for i := range 120 {
		if qr := fmt.Sprintf("SB7%04d", i); seen[qr] != 1 {
			t.Errorf("%s, there before the walk, seen %d times", qr, seen[qr])
		}
	}
}

// TestBagCountsFromCountersMatchRows checks the counter-backed totalCount against a real
// count for every filter the counters answer.
func TestBagCountsFromCountersMatchRows(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	treeFixture(t, env, 4, 3)
	scanParent(t, env, token, "SB90001")
	mustExec(t, env, `INSERT INTO bills (bill_number, capacity) VALUES ('CNT-1', 5)`)
	mustExec(t, env, `INSERT INTO bill_bags (bag_id, bill_id) SELECT b.id, l.id FROM bags b, bills l WHERE b.qr IN ('SB00001', 'SB00002')`)
	for filter, want := range map[string]string{
		`{}`:                                 `SELECT count(*) FROM bags`,
		`{type: PARENT}`:                     `SELECT count(*) FROM bags WHERE type = 'PARENT'`,
		`{type: CHILD, areaCode: "lucknow"}`: `SELECT count(*) FROM bags WHERE type = 'CHILD' AND area_id = 1`,
		`{areaCode: "lucknow"}`:              `SELECT count(*) FROM bags WHERE area_id = 1`,
		`{areaCode: "akola"}`:                `SELECT count(*) FROM bags WHERE area_id = 10`,
	} {
		var rows int
		if err := env.Store.DB().QueryRow(want).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		var got struct{ Bags struct{ TotalCount int } }
		env.MustDo(t, token, `{ bags(filter: `+filter+`) { totalCount } }`, nil, &got)
		if got.Bags.TotalCount != rows {
			t.Errorf("bags(filter: %s).totalCount = %d, rows %d", filter, got.Bags.TotalCount, rows)
		}
	}
}
