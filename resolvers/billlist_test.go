package resolvers_test

import (
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestBillsListFiltersAndPages(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	billerUser, biller := env.NewUser(t, db.RoleBiller, "")
	_, other := env.NewUser(t, db.RoleBiller, "")
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, "ranchi")
	fx.parents(t, 1, 1, "ranchi")
	first := mustCreateBill(t, env, biller, "INV-001", 5)
	mustCreateBill(t, env, biller, "INV-002", 5)
	mustCreateBill(t, env, other, "XYZ-100", 5)
	mustLink(t, env, biller, first.ID, "SB00001")
	fx.exec(t, `UPDATE bills SET destination = 'Kota 50%_off' WHERE bill_number = 'XYZ-100'`)

	type page struct {
		Bills struct {
			Edges    []struct{ Node struct{ BillNumber string } }
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
			TotalCount int
		}
	}
	list := func(filter map[string]any, first int, after any) []string {
		var out page
		env.MustDo(t, dispatcher, `query($f: BillFilter, $n: Int, $a: String) { bills(filter: $f, first: $n, after: $a) {
			edges { node { billNumber } } pageInfo { hasNextPage endCursor } totalCount } }`,
			map[string]any{"f": filter, "n": first, "a": after}, &out)
		var numbers []string
		for _, e := range out.Bills.Edges {
			numbers = append(numbers, e.Node.BillNumber)
		}
		return append(numbers, "total", itoa(out.Bills.TotalCount), "next", out.Bills.PageInfo.EndCursor)
	}
	var p1 page
	env.MustDo(t, dispatcher, `{ bills(first: 2) { edges { node { billNumber } } pageInfo { hasNextPage endCursor } totalCount } }`, nil, &p1)
	if e := p1.Bills.Edges; len(e) != 2 || e[0].Node.BillNumber != "XYZ-100" || e[1].Node.BillNumber != "INV-002" ||
		!p1.Bills.PageInfo.HasNextPage || p1.Bills.TotalCount != 3 {
		t.Errorf("page 1 = %+v", p1)
	}
	if got := list(nil, 2, p1.Bills.PageInfo.EndCursor); got[0] != "INV-001" || got[2] != "3" || len(got) != 5 {
		t.Errorf("page 2 = %v", got)
	}
	for _, tc := range []struct {
		filter map[string]any
		want   []string
	}{
		{map[string]any{"status": "IN_PROGRESS"}, []string{"INV-001"}},
		{map[string]any{"status": "OPEN"}, []string{"XYZ-100", "INV-002"}},
		{map[string]any{"search": "inv-00"}, []string{"INV-002", "INV-001"}},
		{map[string]any{"search": "delhi"}, []string{"INV-002", "INV-001"}},
		{map[string]any{"search": "50%_"}, []string{"XYZ-100"}},
		{map[string]any{"search": "%"}, []string{"XYZ-100"}},
		{map[string]any{"createdById": globalUserID(billerUser.ID)}, []string{"INV-002", "INV-001"}},
		{map[string]any{"createdAfter": "2000-01-01T00:00:00Z", "createdBefore": "2001-01-01T00:00:00Z"}, nil},
	} {
		got := list(tc.filter, 10, nil)
		total := got[len(got)-3]
		got = got[:len(got)-4]
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || total != itoa(len(tc.want)) {
			t.Errorf("bills(%v) = %v (totalCount %s), want %v", tc.filter, got, total, tc.want)
		}
	}
	if code := env.Do(t, dispatcher, `{ bills(first: 101) { totalCount } }`, nil).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("first: 101: code %q", code)
	}
}
