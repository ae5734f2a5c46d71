package resolvers_test

import (
	"fmt"
	"sync"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

const createUserMutation = `mutation($in: CreateUserInput!) {
	createUser(input: $in) { id username email role area { code } active }
}`

const updateUserMutation = `mutation($id: ID!, $in: UpdateUserInput!) {
	updateUser(id: $id, input: $in) { id role area { code } active email }
}`

type userOut struct {
	ID       string
	Username string
	Email    *string
	Role     string
	Area     *struct{ Code string }
	Active   bool
}

func createUser(t *testing.T, env *apitest.Env, token string, in map[string]any) *apitest.Response {
	t.Helper()
	if _, ok := in["password"]; !ok {
		in["password"] = apitest.Password
	}
	return env.Do(t, token, createUserMutation, map[string]any{"in": in})
}

func mustCreateUser(t *testing.T, env *apitest.Env, token string, in map[string]any) userOut {
	t.Helper()
	var got struct{ CreateUser userOut }
	createUser(t, env, token, in).Decode(t, &got)
	return got.CreateUser
}

func updateUser(t *testing.T, env *apitest.Env, token, id string, in map[string]any) *apitest.Response {
	t.Helper()
	return env.Do(t, token, updateUserMutation, map[string]any{"id": id, "in": in})
}

func deleteUser(t *testing.T, env *apitest.Env, token, id string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": id})
}

// idOf returns the global id of a user created through the store.
func idOf(t *testing.T, env *apitest.Env, token string) string {
	t.Helper()
	var got struct{ Me struct{ ID string } }
	env.MustDo(t, token, `{ me { id } }`, nil, &got)
	return got.Me.ID
}

func TestCreateUserRules(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")

	d := mustCreateUser(t, env, admin, map[string]any{"username": "Jaipur_Disp1", "role": "DISPATCHER", "areaCode": "jaipur", "email": " d1@example.com "})
	if d.Role != "DISPATCHER" || d.Area == nil || d.Area.Code != "jaipur" || !d.Active || d.Email == nil || *d.Email != "d1@example.com" {
		t.Errorf("created %+v", d)
	}
	mustLogin(t, env, "jaipur_disp1", apitest.Password)

	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"dispatcher without area", map[string]any{"username": "d2", "role": "DISPATCHER"}, "BAD_USER_INPUT"},
		{"biller with area", map[string]any{"username": "b2", "role": "BILLER", "areaCode": "jaipur"}, "BAD_USER_INPUT"},
		{"unknown area", map[string]any{"username": "d3", "role": "DISPATCHER", "areaCode": "delhi"}, "BAD_USER_INPUT"},
		{"weak password", map[string]any{"username": "d4", "role": "BILLER", "password": "password1"}, "BAD_USER_INPUT"},
		{"bad username", map[string]any{"username": "no spaces", "role": "BILLER"}, "BAD_USER_INPUT"},
		{"short username", map[string]any{"username": "ab", "role": "BILLER"}, "BAD_USER_INPUT"},
		{"bad email", map[string]any{"username": "b5", "role": "BILLER", "email": "not-an-address"}, "BAD_USER_INPUT"},
		{"taken username in another case", map[string]any{"username": "JAIPUR_DISP1", "role": "BILLER"}, "CONFLICT"},
	}
	for _, tt := range tests {
		resp := createUser(t, env, admin, tt.in)
		if resp.Code() != tt.want {
			t.Errorf("%s: %q (%v), want %s", tt.name, resp.Code(), resp.Errors, tt.want)
		} else if resp.Errors[0].Message == "" {
			t.Errorf("%s: empty message", tt.name)
		}
	}
}

func TestTenActiveDispatchersPerArea(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	var first userOut
	for i := range 10 {
		u := mustCreateUser(t, env, admin, map[string]any{"username": fmt.Sprintf("hisar_%d", i), "role": "DISPATCHER", "areaCode": "hisar"})
		if i == 0 {
			first = u
		}
	}
	if code := createUser(t, env, admin, map[string]any{"username": "hisar_11", "role": "DISPATCHER", "areaCode": "hisar"}).Code(); code != "CONFLICT" {
		t.Errorf("11th dispatcher: %q, want CONFLICT", code)
	}
	biller := mustCreateUser(t, env, admin, map[string]any{"username": "hisar_biller", "role": "BILLER"})
	if code := updateUser(t, env, admin, biller.ID, map[string]any{"role": "DISPATCHER", "areaCode": "hisar"}).Code(); code != "CONFLICT" {
		t.Errorf("making a biller the 11th dispatcher: %q, want CONFLICT", code)
	}
	other := mustCreateUser(t, env, admin, map[string]any{"username": "raipur_1", "role": "DISPATCHER", "areaCode": "raipur"})
	if code := updateUser(t, env, admin, other.ID, map[string]any{"areaCode": "hisar"}).Code(); code != "CONFLICT" {
		t.Errorf("moving a dispatcher in as the 11th: %q, want CONFLICT", code)
	}

	// an inactive dispatcher frees the place, and cannot come back while the area is full
	mustSucceed(t, env, admin, updateUserMutation, map[string]any{"id": first.ID, "in": map[string]any{"active": false}})
	mustCreateUser(t, env, admin, map[string]any{"username": "hisar_11", "role": "DISPATCHER", "areaCode": "hisar"})
	if code := updateUser(t, env, admin, first.ID, map[string]any{"active": true}).Code(); code != "CONFLICT" {
		t.Errorf("reactivating into a full area: %q, want CONFLICT", code)
	}
}

func TestDispatcherLimitHoldsUnderConcurrentCreates(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	var wg sync.WaitGroup
	codes := make([]string, 14)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = createUser(t, env, admin, map[string]any{"username": fmt.Sprintf("ranchi_%d", i), "role": "DISPATCHER", "areaCode": "ranchi"}).Code()
		}()
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case "CONFLICT":
			conflicts++
		}
	}
	if ok != 10 || conflicts != 4 {
		t.Errorf("14 concurrent creates: %d created, %d CONFLICT (%v); want 10 and 4", ok, conflicts, codes)
	}
}

func TestUpdateUserRules(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	adminID := idOf(t, env, admin)
	d := mustCreateUser(t, env, admin, map[string]any{"username": "lucknow_d", "role": "DISPATCHER", "areaCode": "lucknow"})

	var got struct{ UpdateUser userOut }
	updateUser(t, env, admin, d.ID, map[string]any{"role": "BILLER"}).Decode(t, &got)
	if got.UpdateUser.Role != "BILLER" || got.UpdateUser.Area != nil {
		t.Errorf("dispatcher made biller: %+v, want role BILLER and no area", got.UpdateUser)
	}
	if code := updateUser(t, env, admin, d.ID, map[string]any{"role": "DISPATCHER"}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("dispatcher without an area: %q, want BAD_USER_INPUT", code)
	}
	if code := updateUser(t, env, admin, d.ID, map[string]any{"areaCode": "indore"}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("an area for a biller: %q, want BAD_USER_INPUT", code)
	}
	updateUser(t, env, admin, d.ID, map[string]any{"role": "DISPATCHER", "areaCode": "Indore", "email": "x@example.com"}).Decode(t, &got)
	if got.UpdateUser.Area == nil || got.UpdateUser.Area.Code != "indore" || got.UpdateUser.Email == nil {
		t.Errorf("biller made dispatcher in indore: %+v", got.UpdateUser)
	}
	updateUser(t, env, admin, d.ID, map[string]any{"email": ""}).Decode(t, &got)
	if got.UpdateUser.Email != nil {
		t.Errorf("an empty email should remove it, got %q", *got.UpdateUser.Email)
	}

	for name, in := range map[string]map[string]any{
		"own role":        {"role": "BILLER"},
		"deactivate self": {"active": false},
	} {
		if code := updateUser(t, env, admin, adminID, in).Code(); code != "FORBIDDEN" {
			t.Errorf("%s: %q, want FORBIDDEN", name, code)
		}
	}
	mustSucceed(t, env, admin, updateUserMutation, map[string]any{"id": adminID, "in": map[string]any{"email": "me@example.com"}})

	if code := updateUser(t, env, admin, "VXNlcjo5OTk5OTk", map[string]any{"active": false}).Code(); code != "NOT_FOUND" {
		t.Errorf("unknown user: %q, want NOT_FOUND", code)
	}
	if code := updateUser(t, env, admin, "garbage", map[string]any{"active": false}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("malformed id: %q, want BAD_USER_INPUT", code)
	}
}

func TestDeactivationAndNewPasswordRevokeTokens(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	user, token := env.NewUser(t, db.RoleBiller, "")
	id := idOf(t, env, token)

	mustSucceed(t, env, admin, updateUserMutation, map[string]any{"id": id, "in": map[string]any{"active": false}})
	if code := meCode(t, env, token); code != "UNAUTHENTICATED" {
		t.Errorf("token of a deactivated user: %q", code)
	}
	resp := login(t, env, user.Username, apitest.Password)
	if resp.Code() != "UNAUTHENTICATED" {
		t.Errorf("login of a deactivated user: %q", resp.Code())
	}
	mustSucceed(t, env, admin, updateUserMutation, map[string]any{"id": id, "in": map[string]any{"active": true}})
	if code := meCode(t, env, token); code != "UNAUTHENTICATED" {
		t.Errorf("reactivation revived an old token: %q", code)
	}

	fresh := mustLogin(t, env, user.Username, apitest.Password).Login.Token
	mustSucceed(t, env, admin, updateUserMutation, map[string]any{"id": id, "in": map[string]any{"password": "Reset#Pass9"}})
	if code := meCode(t, env, fresh); code != "UNAUTHENTICATED" {
		t.Errorf("token after an admin set a new password: %q", code)
	}
	mustLogin(t, env, user.Username, "Reset#Pass9")
	if code := updateUser(t, env, admin, id, map[string]any{"password": "short"}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("weak password via updateUser: %q", code)
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	_, victimToken := env.NewUser(t, db.RoleDispatcher, "bathinda")
	victim := idOf(t, env, victimToken)

	if code := deleteUser(t, env, admin, idOf(t, env, admin)).Code(); code != "FORBIDDEN" {
		t.Errorf("deleting oneself: %q, want FORBIDDEN", code)
	}
	var out struct{ DeleteUser bool }
	deleteUser(t, env, admin, victim).Decode(t, &out)
	if !out.DeleteUser {
		t.Error("deleteUser returned false")
	}
	if code := meCode(t, env, victimToken); code != "UNAUTHENTICATED" {
		t.Errorf("token of a deleted user: %q", code)
	}
	if code := deleteUser(t, env, admin, victim).Code(); code != "NOT_FOUND" {
		t.Errorf("deleting twice: %q, want NOT_FOUND", code)
	}
}

func TestLastAdminSurvivesAdminsDemotingEachOther(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	changes := map[string]func(token, id string) *apitest.Response{
		"demote": func(token, id string) *apitest.Response {
			return updateUser(t, env, token, id, map[string]any{"role": "BILLER"})
		},
		"deactivate": func(token, id string) *apitest.Response {
			return updateUser(t, env, token, id, map[string]any{"active": false})
		},
		"delete": func(token, id string) *apitest.Response { return deleteUser(t, env, token, id) },
	}
	for round := range 3 {
		for name, change := range changes {
			_, a := env.NewUser(t, db.RoleAdmin, "")
			_, b := env.NewUser(t, db.RoleAdmin, "")
			aID, bID := idOf(t, env, a), idOf(t, env, b)
			// every earlier pair left one admin; retire it so that a and b are the only two
			retireOtherAdmins(t, env, a, aID, bID)

			var wg sync.WaitGroup
			var codeA, codeB string
			wg.Add(2)
			go func() { defer wg.Done(); codeA = change(a, bID).Code() }()
			go func() { defer wg.Done(); codeB = change(b, aID).Code() }()
			wg.Wait()

			admins := activeAdmins(t, env, a, b)
			if admins != 1 {
				t.Errorf("round %d %s: %d active admins left (codes %q, %q), want 1", round, name, admins, codeA, codeB)
			}
			// the loser gets CONFLICT when both were authorized before either committed, or
			// is no longer an admin (FORBIDDEN) or active (UNAUTHENTICATED) when it came later
			loser := codeA + codeB
			if (codeA == "") == (codeB == "") || (loser != "CONFLICT" && loser != "FORBIDDEN" && loser != "UNAUTHENTICATED") {
				t.Errorf("round %d %s: codes %q and %q, want one success and one refusal", round, name, codeA, codeB)
			}
		}
	}
}

// retireOtherAdmins demotes every active admin but keep1 and keep2, acting as keep1.
func retireOtherAdmins(t *testing.T, env *apitest.Env, token, keep1, keep2 string) {
	t.Helper()
	var got struct {
		Users struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	env.MustDo(t, token, `{ users(role: ADMIN, first: 100) { edges { node { id } } } }`, nil, &got)
	for _, e := range got.Users.Edges {
		if e.Node.ID != keep1 && e.Node.ID != keep2 {
			mustSucceed(t, env, token, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": e.Node.ID})
		}
	}
}

// activeAdmins counts active admins, asking with whichever token still belongs to an admin.
func activeAdmins(t *testing.T, env *apitest.Env, tokens ...string) int {
	t.Helper()
	for _, token := range tokens {
		resp := env.Do(t, token, `{ users(role: ADMIN, first: 100) { edges { node { active } } } }`, nil)
		if len(resp.Errors) > 0 {
			continue
		}
		var got struct {
			Users struct {
				Edges []struct{ Node struct{ Active bool } }
			}
		}
		resp.Decode(t, &got)
		n := 0
		for _, e := range got.Users.Edges {
			if e.Node.Active {
				n++
			}
		}
		return n
	}
	t.Fatal("no token belongs to an admin any more")
	return 0
}

func TestUsersListPagesAndFilters(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	for i := range 3 {
		mustCreateUser(t, env, admin, map[string]any{"username": fmt.Sprintf("sangaria_%d", i), "role": "DISPATCHER", "areaCode": "sangaria"})
	}
	mustCreateUser(t, env, admin, map[string]any{"username": "akola_1", "role": "DISPATCHER", "areaCode": "akola"})
	mustCreateUser(t, env, admin, map[string]any{"username": "biller_1", "role": "BILLER"})

	type page struct {
		Users struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct{ Node struct{ Username string } }
		}
	}
	query := `query($role: Role, $area: String, $first: Int, $after: String) {
		users(role: $role, areaCode: $area, first: $first, after: $after) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { username } }
		}
	}`
	var seen []string
	var after any
	for {
		var p page
		env.MustDo(t, admin, query, map[string]any{"first": 2, "after": after}, &p)
		if p.Users.TotalCount != 6 {
			t.Errorf("totalCount = %d, want 6", p.Users.TotalCount)
		}
		for _, e := range p.Users.Edges {
			seen = append(seen, e.Node.Username)
		}
		if !p.Users.PageInfo.HasNextPage {
			break
		}
		after = *p.Users.PageInfo.EndCursor
	}
	if len(seen) != 6 {
		t.Errorf("paging saw %v, want 6 users", seen)
	}

	var p page
	env.MustDo(t, admin, query, map[string]any{"role": "DISPATCHER", "area": "sangaria"}, &p)
	if p.Users.TotalCount != 3 || len(p.Users.Edges) != 3 || p.Users.Edges[0].Node.Username != "sangaria_0" {
		t.Errorf("dispatchers of sangaria: %+v", p.Users)
	}
	env.MustDo(t, admin, query, map[string]any{"role": "BILLER"}, &p)
	if p.Users.TotalCount != 1 {
		t.Errorf("billers: %d, want 1", p.Users.TotalCount)
	}
	for name, vars := range map[string]map[string]any{
		"unknown area": {"area": "nowhere"},
		"first > 100":  {"first": 101},
		"bad cursor":   {"after": "bogus"},
	} {
		if code := env.Do(t, admin, query, vars).Code(); code != "BAD_USER_INPUT" {
			t.Errorf("%s: %q, want BAD_USER_INPUT", name, code)
		}
	}
}
