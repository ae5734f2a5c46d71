package resolvers_test

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// Every weight a client can read (a child, a parent, its children, a bill, the bill summary,
// both CSV exports) follows the one set of formulas with the configured kilograms per child:
// 2.5 kg here, so a formula that ignores the setting or weighs a child 0 kg fails.
func TestEveryWeightFollowsTheConfiguredFormulas(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Resolvers.KgPerChild = 2.5 })
	weights := db.Weights{KgPerChild: 2.5, ChildrenPerParent: 30}
	_, biller := env.NewUser(t, db.RoleBiller, "")
	scanParent(t, env, biller, "SB60001")
	scanChildren(t, env, biller, "SB60001", "WGT0001", "WGT0002", "WGT0003")
	bill := mustCreateBill(t, env, biller, "B-WEIGHT", 4)
	mustLink(t, env, biller, bill.ID, "SB60001")

	var view struct {
		Child  struct{ WeightKg float64 }
		Parent struct {
			WeightKg float64
			Children struct {
				Edges []struct{ Node struct{ WeightKg float64 } }
			}
		}
		Bill        struct{ TotalWeightKg, ExpectedWeightKg float64 }
		BillSummary []struct{ TotalWeightKg, ExpectedWeightKg float64 }
	}
	env.MustDo(t, biller, `query($id: ID) {
		child: bag(qr: "WGT0002") { weightKg }
		parent: bag(qr: "SB60001") { weightKg children { edges { node { weightKg } } } }
		bill(id: $id) { totalWeightKg expectedWeightKg }
		billSummary(groupBy: STATUS) { totalWeightKg expectedWeightKg }
	}`, map[string]any{"id": bill.ID}, &view)

	child, parent, total, expected := weights.Children(1), weights.Children(3), weights.BillTotal(3), weights.BillExpected(4)
	checks := []struct {
		what      string
		got, want float64
	}{
		{"child bag", view.Child.WeightKg, child},
		{"parent bag", view.Parent.WeightKg, parent},
		{"bill total", view.Bill.TotalWeightKg, total},
		{"bill expected", view.Bill.ExpectedWeightKg, expected},
	}
	for _, e := range view.Parent.Children.Edges {
		checks = append(checks, struct {
			what      string
			got, want float64
		}{"child in parent.children", e.Node.WeightKg, child})
	}
	if len(view.BillSummary) != 1 {
		t.Fatalf("billSummary = %+v", view.BillSummary)
	}
	checks = append(checks, []struct {
		what      string
		got, want float64
	}{
		{"billSummary total", view.BillSummary[0].TotalWeightKg, total},
		{"billSummary expected", view.BillSummary[0].ExpectedWeightKg, expected},
		{"bags.csv child", csvWeight(t, env, biller, "/export/bags.csv", "qr", "WGT0001", "weight_kg"), child},
		{"bags.csv parent", csvWeight(t, env, biller, "/export/bags.csv", "qr", "SB60001", "weight_kg"), parent},
		{"bills.csv total", csvWeight(t, env, biller, "/export/bills.csv", "bill_number", "B-WEIGHT", "total_weight_kg"), total},
		{"bills.csv expected", csvWeight(t, env, biller, "/export/bills.csv", "bill_number", "B-WEIGHT", "expected_weight_kg"), expected},
	}...)
	if child != 2.5 || parent != 7.5 || expected != 300 {
		t.Fatalf("db.Weights: child %v, parent %v, expected %v; want 2.5, 7.5, 300", child, parent, expected)
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s weighs %v kg, want %v", c.what, c.got, c.want)
		}
	}
}

// csvWeight downloads an export and returns column of the row whose key column is key.
func csvWeight(t *testing.T, env *apitest.Env, token, path, keyColumn, key, column string) float64 {
	t.Helper()
	_, body := env.Get(t, token, path)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %v\n%s", path, err, body)
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("%s has no column %s: %v", path, name, rows[0])
		return -1
	}
	k, c := col(keyColumn), col(column)
	for _, row := range rows[1:] {
		if strings.TrimPrefix(row[k], "'") == key {
			kg, err := strconv.ParseFloat(row[c], 64)
			if err != nil {
				t.Fatalf("%s %s %s = %q", path, key, column, row[c])
			}
			return kg
		}
	}
	t.Fatalf("%s has no row %s", path, key)
	return 0
}
