package resolvers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// scanFields are the fields of Scan, each with the selection under it: every one of them is
// read from the scan's own columns (the objects through the id column that names them).
var scanFields = []struct{ name, selection string }{
	{"id", ""}, {"kind", ""}, {"at", ""}, {"bagQr", ""}, {"bag", "{qr}"}, {"parent", "{qr}"},
	{"bill", "{billNumber}"}, {"user", "{username}"}, {"area", "{code}"},
}

// TestScanPagesOfEveryColumnSet: a page of the scan log read with only the columns its nodes
// select answers each field as each of its scans read whole (node(id)) does, for each field alone,
// a few together, in fragments, and for an admin and a dispatcher of the area (the fast path
// serves the plain fields, gqlgen the rest; both read the page with its columns).
func TestScanPagesOfEveryColumnSet(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, admin := env.NewUser(t, db.RoleAdmin, "")
	area, err := env.Store.AreaByID(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, dispatcher := env.NewUser(t, db.RoleDispatcher, area.Code)
	scanColumnsFixture(t, env, user.ID)

	var all string
	for _, f := range scanFields {
		all += " " + f.name + f.selection
	}
	selections := []string{"__typename", "kind at bagQr", "id bag{qr} user{username}", "...on Node{id} ...on Scan{area{code} kind}"}
	for _, f := range scanFields {
		selections = append(selections, f.name+f.selection)
	}
	for _, token := range []string{admin, dispatcher} {
		full := wholeScans(t, env, token, scanPage(t, env, token, "id"), all)
		if len(full) < 20 {
			t.Fatalf("%d scans, want 20", len(full))
		}
		for _, sel := range selections {
			got := scanPage(t, env, token, sel)
			if len(got) != len(full) {
				t.Fatalf("%s: %d scans, %d with every column", sel, len(got), len(full))
			}
			for i, node := range got {
				for name, value := range node {
					want, ok := full[i][name]
					if name == "__typename" {
						want, ok = json.RawMessage(`"Scan"`), true
					}
					if !ok || string(value) != string(want) {
						t.Errorf("%s: scan %d's %s is %s, with every column %s", sel, i, name, value, want)
					}
				}
			}
		}
	}
}

// scanPage is the newest 20 scans' nodes selecting sel, each field by its name.
func scanPage(t *testing.T, env *apitest.Env, token, sel string) []map[string]json.RawMessage {
	t.Helper()
	var out struct {
		Scans struct {
			Edges []struct{ Node map[string]json.RawMessage }
		}
	}
	env.MustDo(t, token, fmt.Sprintf(`{scans(first:20){edges{node{%s}}}}`, sel), nil, &out)
	nodes := make([]map[string]json.RawMessage, len(out.Scans.Edges))
	for i, e := range out.Scans.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// wholeScans are the scans of the page's nodes (which hold their ids) selecting sel, each
// read whole on its own (node(id) reads every column).
func wholeScans(t *testing.T, env *apitest.Env, token string, page []map[string]json.RawMessage, sel string) []map[string]json.RawMessage {
	t.Helper()
	query := "{"
	for i, node := range page {
		query += fmt.Sprintf(" s%d: node(id: %s) { ...on Scan { %s } }", i, node["id"], sel)
	}
	var out map[string]map[string]json.RawMessage
	env.MustDo(t, token, query+" }", nil, &out)
	nodes := make([]map[string]json.RawMessage, len(page))
	for i := range nodes {
		nodes[i] = out[fmt.Sprintf("s%d", i)]
	}
	return nodes
}

// scanColumnsFixture logs 24 scans of area 1 whose every column holds a value in most of them
// (and is null in some): parents scanned and billed, children linked, by the user.
func scanColumnsFixture(t *testing.T, env *apitest.Env, userID int64) {
	t.Helper()
	mustExec(t, env, `INSERT INTO bags (qr, type, area_id) VALUES ('SB00001', 'PARENT', 1), ('SB00002', 'PARENT', 1)`)
	mustExec(t, env, `INSERT INTO bags (qr, type, parent_id, area_id) SELECT 'K1X'||g, 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), 1
		FROM generate_series(1, 4) g`)
	mustExec(t, env, `INSERT INTO bills (bill_number, capacity, created_by) VALUES ('COL-1', 10, $1)`, userID)
	mustExec(t, env, `
		INSERT INTO scans (kind, bag_qr, bag_id, parent_id, bill_id, user_id, area_id)
		SELECT CASE WHEN b.type = 'CHILD' THEN 'CHILD_LINKED' WHEN g = 2 THEN 'BILL_LINKED' ELSE 'PARENT_SCANNED' END,
		       b.qr, CASE WHEN g <> 3 THEN b.id END, b.parent_id,
		       CASE WHEN b.type = 'PARENT' AND g = 2 THEN (SELECT id FROM bills) END,
		       CASE WHEN g <> 1 THEN $1::bigint END, 1
		FROM bags b, generate_series(1, 4) g ORDER BY g, b.id`, userID)
}
