package resolvers_test

import (
	"fmt"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/internal/gid"
)

// TestRoleMatrixAllOperations sends every operation of the contract as each role (and with no token) and
// checks that exactly the roles SPEC.md names get past authorization. What an allowed call
// then answers (data, NOT_FOUND, BAD_USER_INPUT...) is the business of each area's tests.
func TestRoleMatrixAllOperations(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	const (
		anyone = "anyone"
		signed = "signed-in"
		admin  = "admin"
		biller = "admin-biller"
	)
	missingUser := "VXNlcjo5OTk5OTk5" // User:9999999
	missingBill := "QmlsbDo5OTk5OTk5" // Bill:9999999
	missingBag := "QmFnOjk5OTk5OTk"   // Bag:9999999
	missingTicket := gid.Encode(gid.ReturnTicket, 9999999)
	ops := []struct {
		name, access string
		query        func(username string) string
	}{
		{"me", anyone, fixed(`{ me { id } }`)},
		{"node", signed, fixed(`{ node(id: "` + missingBag + `") { id } }`)},
		{"bag", signed, fixed(`{ bag(qr: "SB99999") { id } }`)},
		{"bags", signed, fixed(`{ bags(first: 1) { edges { cursor } } }`)},
		{"bill", signed, fixed(`{ bill(billNumber: "NOPE-1") { id } }`)},
		{"bills", signed, fixed(`{ bills(first: 1) { edges { cursor } } }`)},
		{"scans", signed, fixed(`{ scans(first: 1) { edges { cursor } } }`)},
		{"users", admin, fixed(`{ users(first: 1) { totalCount } }`)},
		{"areas", signed, fixed(`{ areas { code } }`)},
		{"stats", signed, fixed(`{ stats { parentBags } }`)},
		{"scanSummary", signed, fixed(`{ scanSummary(groupBy: KIND) { key } }`)},
		{"billSummary", signed, fixed(`{ billSummary(groupBy: STATUS) { key } }`)},
		{"integrity", admin, fixed(`{ integrity { ok } }`)},
		{"login", anyone, func(u string) string {
			return fmt.Sprintf(`mutation { login(username: %q, password: %q) { token } }`, u, apitest.Password)
		}},
		{"logout", signed, fixed(`mutation { logout }`)},
		{"changePassword", signed, fixed(`mutation { changePassword(currentPassword: "` + apitest.Password + `", newPassword: "New#Pass2") }`)},
		{"createUser", admin, func(u string) string {
			return fmt.Sprintf(`mutation { createUser(input: {username: "%s_x", password: "Abcdef#1", role: BILLER}) { id } }`, u)
		}},
		{"updateUser", admin, fixed(`mutation { updateUser(id: "` + missingUser + `", input: {email: "a@b.c"}) { id } }`)},
		{"deleteUser", admin, fixed(`mutation { deleteUser(id: "` + missingUser + `") }`)},
		{"scanParent", signed, fixed(`mutation { scanParent(qr: "not a qr") { id } }`)},
		{"scanChildren", signed, fixed(`mutation { scanChildren(parentQr: "SB99998", childQrs: []) { rejected { code } } }`)},
		{"unlinkChild", signed, fixed(`mutation { unlinkChild(childQr: "NOSUCHCHILD") { id } }`)},
		{"undoLastChildScan", signed, fixed(`mutation { undoLastChildScan { removedQr } }`)},
		{"deleteBag", biller, fixed(`mutation { deleteBag(qr: "SB99997") }`)},
		{"createBill", biller, func(u string) string {
			return fmt.Sprintf(`mutation { createBill(input: {billNumber: "B-%s", capacity: 5}) { id } }`, u)
		}},
		{"updateBill", biller, fixed(`mutation { updateBill(id: "` + missingBill + `", input: {destination: "x"}) { id } }`)},
		{"linkBagsToBill", biller, fixed(`mutation { linkBagsToBill(billId: "` + missingBill + `", parentQrs: ["SB99996"]) { rejected { code } } }`)},
		{"unlinkBagFromBill", biller, fixed(`mutation { unlinkBagFromBill(billId: "` + missingBill + `", parentQr: "SB99996") { id } }`)},
		{"completeBill", biller, fixed(`mutation { completeBill(id: "` + missingBill + `") { id } }`)},
		{"reopenBill", biller, fixed(`mutation { reopenBill(id: "` + missingBill + `") { id } }`)},
		{"deleteBill", admin, fixed(`mutation { deleteBill(id: "` + missingBill + `") }`)},
		{"returnTicket", biller, fixed(`{ returnTicket(id: "` + missingTicket + `") { id } }`)},
		{"returnTickets", biller, fixed(`{ returnTickets(first: 1) { totalCount } }`)},
		{"createReturnTicket", biller, fixed(`mutation { createReturnTicket(input: {cfLocation: "Kota"}) { id } }`)},
		{"scanReturn", biller, fixed(`mutation { scanReturn(ticketId: "` + missingTicket + `", parentQrs: ["SB99995"]) { rejected { code } } }`)},
		{"finalizeReturnTicket", biller, fixed(`mutation { finalizeReturnTicket(id: "` + missingTicket + `") { id } }`)},
		{"cancelReturnTicket", biller, fixed(`mutation { cancelReturnTicket(id: "` + missingTicket + `") { id } }`)},
	}
	roles := []db.Role{"", db.RoleDispatcher, db.RoleBiller, db.RoleAdmin}
	// at most 10 active dispatchers per area: spread them
	areas := []string{"lucknow", "indore", "jaipur", "hisar", "sri_ganganagar", "sangaria", "bathinda", "raipur", "ranchi", "akola"}
	for i, op := range ops {
		for _, role := range roles {
			var token, username string
			if role != "" {
				area := ""
				if role == db.RoleDispatcher {
					area = areas[i%len(areas)]
				}
				var user *db.User
				user, token = env.NewUser(t, role, area)
				username = user.Username
			} else {
				user, _ := env.NewUser(t, db.RoleBiller, "")
				username = user.Username
			}
			code := env.Do(t, token, op.query(username), nil).Code()
			want := expectedDenial(op.access, role)
			denied := code == "UNAUTHENTICATED" || code == "FORBIDDEN"
			switch {
			case want != "" && code != want:
				t.Errorf("%s as %q: code %q, want %s", op.name, role, code, want)
			case want == "" && denied:
				t.Errorf("%s as %q: denied with %s, but SPEC.md allows it", op.name, role, code)
			}
		}
	}
}

// expectedDenial returns the code an access level gives a role, or "" when it is allowed.
func expectedDenial(access string, role db.Role) string {
	switch {
	case access == "anyone":
		return ""
	case role == "":
		return "UNAUTHENTICATED"
	case access == "signed-in", role == db.RoleAdmin:
		return ""
	case access == "admin-biller" && role == db.RoleBiller:
		return ""
	}
	return "FORBIDDEN"
}

func fixed(query string) func(string) string {
	return func(string) string { return query }
}
