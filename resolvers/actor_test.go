package resolvers_test

import (
	"encoding/json"
	"strings"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// lucknowQRs are the QRs of the other area in the isolation fixture: no answer to a jaipur
// dispatcher may name one, in data or in messages.
var lucknowQRs = []string{"SB51001", "LKO51001", "LKO51002"}

// twoAreas scans a lucknow parent with two children and a jaipur parent with one, puts both
// parents on one bill (by a biller) and returns the jaipur dispatcher's token, the admin's,
// the lucknow dispatcher's and the bill's id.
func twoAreas(t *testing.T, env *apitest.Env) (jaipur, admin, lucknow, billID string) {
	t.Helper()
	_, lucknow = env.NewUser(t, db.RoleDispatcher, "lucknow")
	_, jaipur = env.NewUser(t, db.RoleDispatcher, "jaipur")
	_, admin = env.NewUser(t, db.RoleAdmin, "")
	scanParent(t, env, lucknow, "SB51001")
	scanChildren(t, env, lucknow, "SB51001", "LKO51001", "LKO51002")
	scanParent(t, env, jaipur, "SB52001")
	scanChildren(t, env, jaipur, "SB52001", "JPR52001")
	bill := mustCreateBill(t, env, admin, "ISO-1", 10)
	mustLink(t, env, admin, bill.ID, "SB51001", "SB52001")
	mustExec(t, env, `UPDATE users SET email = username || '@example.com', last_login_at = now()`)
	return jaipur, admin, lucknow, bill.ID
}

// mentionsLucknow reports the first lucknow QR the response names, in data or errors.
func mentionsLucknow(r *apitest.Response) string {
	raw, _ := json.Marshal(r)
	for _, qr := range lucknowQRs {
		if strings.Contains(string(raw), qr) {
			return qr
		}
	}
	return ""
}

// TestNestedPathsAreScoped: every nested list and field a jaipur dispatcher reaches from a
// bill shared with lucknow (parentBags and its totalCount, children, parent, scans, a scan's
// bag and parent, LinkBagsResult) lists jaipur's only; the bill's counters stay global.
func TestNestedPathsAreScoped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	jaipur, admin, _, billID := twoAreas(t, env)

	deep := `query($id: ID!) {
		bills(first: 3) { totalCount edges { node { billNumber parentBagCount childBagCount
			parentBags(first: 5) { totalCount edges { node { qr
				children(first: 5) { totalCount edges { node { qr parent { qr } bill { billNumber } scans(first: 5) { edges { node { bagQr bag { qr } parent { qr } } } } } } }
				scans(first: 5) { edges { node { bagQr bag { qr } parent { qr } bill { parentBags(first: 5) { totalCount edges { node { qr } } } } } } }
			} } }
		} } }
		bill(id: $id) { parentBags(first: 1) { totalCount pageInfo { hasNextPage } edges { node { qr } } } }
		scans(first: 20) { edges { node { bagQr bag { qr } parent { qr } } } }
	}`
	vars := map[string]any{"id": billID}
	resp := env.Do(t, jaipur, deep, vars)
	if len(resp.Errors) > 0 {
		t.Fatalf("errors: %+v", resp.Errors)
	}
	if qr := mentionsLucknow(resp); qr != "" {
		t.Errorf("a jaipur dispatcher's bill tree names lucknow's %s: %s", qr, resp.Data)
	}
	var got struct {
		Bills struct {
			Edges []struct {
				Node struct {
					ParentBagCount int
					ParentBags     struct {
						TotalCount int
						Edges      []struct{ Node struct{ QR string } }
					}
				}
			}
		}
		Bill struct {
			ParentBags struct {
				TotalCount int
				PageInfo   struct{ HasNextPage bool }
			}
		}
	}
	resp.Decode(t, &got)
	b := got.Bills.Edges[0].Node
	if b.ParentBagCount != 2 || b.ParentBags.TotalCount != 1 || len(b.ParentBags.Edges) != 1 || b.ParentBags.Edges[0].Node.QR != "SB52001" {
		t.Errorf("jaipur's view of the bill: counter %d (want 2, the bill's), parentBags %+v (want SB52001 only, totalCount 1)", b.ParentBagCount, b.ParentBags)
	}
	if got.Bill.ParentBags.TotalCount != 1 || got.Bill.ParentBags.PageInfo.HasNextPage {
		t.Errorf("jaipur's first page of one: %+v, want totalCount 1 and no next page", got.Bill.ParentBags)
	}

	// the admin sees both areas through the same paths
	var all struct {
		Bill struct{ ParentBags struct{ TotalCount int } }
	}
	env.MustDo(t, admin, `query($id: ID!) { bill(id: $id) { parentBags { totalCount } } }`, vars, &all)
	if all.Bill.ParentBags.TotalCount != 2 {
		t.Errorf("admin's parentBags totalCount %d, want 2", all.Bill.ParentBags.TotalCount)
	}

	// the mutation result's bill is scoped the same way (a biller sees all areas)
	link := env.Do(t, admin, `mutation($b: ID!) { linkBagsToBill(billId: $b, parentQrs: ["SB52001"]) { bill { parentBags { totalCount } } } }`, map[string]any{"b": billID})
	if !strings.Contains(string(link.Data), `"totalCount":2`) {
		t.Errorf("admin's link result: %s %+v", link.Data, link.Errors)
	}
}

// TestOtherAreaByIDAndMutations: looking a lucknow bag or scan up by id, or changing one,
// is FORBIDDEN for a jaipur dispatcher with a message that names nothing of it, and a
// refused call returns none of its data.
func TestOtherAreaByIDAndMutations(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	jaipur, admin, lucknow, _ := twoAreas(t, env)
	var ids struct {
		Bag struct {
			ID    string
			Scans struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	env.MustDo(t, admin, `{ bag(qr: "LKO51001") { id scans { edges { node { id } } } } }`, nil, &ids)

	calls := []struct {
		name, query string
		vars        map[string]any
	}{
		{"node(bag)", `query($id: ID!) { node(id: $id) { id ... on Bag { qr parent { qr } } } }`, map[string]any{"id": ids.Bag.ID}},
		{"node(scan)", `query($id: ID!) { node(id: $id) { id ... on Scan { bagQr } } }`, map[string]any{"id": ids.Bag.Scans.Edges[0].Node.ID}},
		{"bag(qr) of a child", `{ bag(qr: "LKO51001") { qr parent { qr } } }`, nil},
		{"scanParent", `mutation { scanParent(qr: "SB51001") { qr children { edges { node { qr } } } } }`, nil},
		{"scanChildren", `mutation { scanChildren(parentQr: "SB51001", childQrs: ["JPR52009"]) { parent { qr children { edges { node { qr } } } } rejected { message } } }`, nil},
		{"unlinkChild", `mutation { unlinkChild(childQr: "LKO51002") { qr children { edges { node { qr } } } } }`, nil},
	}
	for _, c := range calls {
		resp := env.Do(t, jaipur, c.query, c.vars)
		if resp.Code() != "FORBIDDEN" {
			t.Errorf("%s: code %q, want FORBIDDEN (%s)", c.name, resp.Code(), resp.Data)
		}
		if qr := mentionsLucknow(resp); qr != "" {
			t.Errorf("%s: the answer names lucknow's %s: %s %+v", c.name, qr, resp.Data, resp.Errors)
		}
	}

	// LINKED_TO_OTHER_PARENT names the parent only for a caller who may see it
	jpr := scanChildren(t, env, jaipur, "SB52001", "LKO51001")
	if len(jpr.Rejected) != 1 || jpr.Rejected[0].Code != "LINKED_TO_OTHER_PARENT" || strings.Contains(jpr.Rejected[0].Message, "SB51001") {
		t.Errorf("jaipur scanning lucknow's child: %+v, want LINKED_TO_OTHER_PARENT naming no parent", jpr.Rejected)
	}
	scanParent(t, env, lucknow, "SB51002")
	lko := scanChildren(t, env, lucknow, "SB51002", "LKO51001")
	if len(lko.Rejected) != 1 || !strings.Contains(lko.Rejected[0].Message, "SB51001") {
		t.Errorf("lucknow scanning its own child into another parent: %+v, want the message to name SB51001", lko.Rejected)
	}
	if n := countScans(t, env, "CHILD_UNLINKED"); n != 0 {
		t.Errorf("a refused unlink logged %d CHILD_UNLINKED", n)
	}
}

// TestUserPrivateFields: email and lastLoginAt are for admins and the user themself,
// whichever path reaches the user (createdBy of a bag or bill, scan.user, me, users, node).
func TestUserPrivateFields(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	jaipur, admin, _, billID := twoAreas(t, env)
	_, colleague := env.NewUser(t, db.RoleDispatcher, "jaipur")
	scanChildren(t, env, colleague, "SB52001", "JPR52002")
	mustExec(t, env, `UPDATE users SET email = username || '@example.com', last_login_at = now()`)

	type person struct {
		Username    string
		Email       *string
		LastLoginAt *string
	}
	type reads struct {
		Me  person
		Bag struct {
			CreatedBy person
			Children  struct {
				Edges []struct {
					Node struct {
						QR        string
						CreatedBy person
						Scans     struct {
							Edges []struct{ Node struct{ User person } }
						}
					}
				}
			}
		}
		Bill struct{ CreatedBy person }
	}
	query := `query($id: ID!) { me { username email lastLoginAt }
		bag(qr: "SB52001") { createdBy { username email lastLoginAt }
			children { edges { node { qr createdBy { username email lastLoginAt } scans { edges { node { user { username email lastLoginAt } } } } } } } }
		bill(id: $id) { createdBy { username email lastLoginAt } } }`
	vars := map[string]any{"id": billID}

	var got reads
	env.MustDo(t, jaipur, query, vars, &got)
	shown := func(p person) bool { return p.Email != nil && p.LastLoginAt != nil }
	hidden := func(p person) bool { return p.Email == nil && p.LastLoginAt == nil }
	if !shown(got.Me) {
		t.Errorf("me: %+v, want own email and last login", got.Me)
	}
	if got.Bag.CreatedBy.Username != got.Me.Username || !shown(got.Bag.CreatedBy) {
		t.Errorf("own bag's createdBy (oneself): %+v, want the private fields", got.Bag.CreatedBy)
	}
	if !hidden(got.Bill.CreatedBy) {
		t.Errorf("the bill's createdBy (an admin) seen by a dispatcher: %+v, want email and lastLoginAt null", got.Bill.CreatedBy)
	}
	others := 0
	for _, e := range got.Bag.Children.Edges {
		users := []person{e.Node.CreatedBy}
		for _, s := range e.Node.Scans.Edges {
			users = append(users, s.Node.User)
		}
		for _, u := range users {
			switch {
			case u.Username == got.Me.Username && !shown(u):
				t.Errorf("%s: oneself without private fields: %+v", e.Node.QR, u)
			case u.Username != got.Me.Username && !hidden(u):
				t.Errorf("%s: a colleague's private fields reach a dispatcher: %+v", e.Node.QR, u)
			case u.Username != got.Me.Username:
				others++
			}
		}
	}
	if others == 0 {
		t.Fatal("the fixture reached no other user")
	}

	var adminView reads
	env.MustDo(t, admin, query, vars, &adminView)
	for _, e := range adminView.Bag.Children.Edges {
		if !shown(e.Node.CreatedBy) {
			t.Errorf("admin reading %s's createdBy: %+v, want the private fields", e.Node.QR, e.Node.CreatedBy)
		}
	}
	if !shown(adminView.Bill.CreatedBy) {
		t.Errorf("admin reading the bill's createdBy: %+v", adminView.Bill.CreatedBy)
	}
}
