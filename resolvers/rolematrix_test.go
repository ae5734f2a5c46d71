package resolvers_test

import (
	"fmt"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// TestRoleMatrix sends every operation of the users/auth area as every role (and as nobody)
// and checks the access SPEC.md gives: "" means allowed (the call succeeds), otherwise the
// error code expected.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	seq := 0
	// each call gets fresh targets, so that calls do not depend on one another
	operations := []struct {
		name string
		call func(token string) *apitest.Response
	}{
		{"me", func(token string) *apitest.Response { return env.Do(t, token, `{ me { username } }`, nil) }},
		{"users", func(token string) *apitest.Response {
			return env.Do(t, token, `{ users { totalCount edges { node { username } } } }`, nil)
		}},
		{"areas", func(token string) *apitest.Response { return env.Do(t, token, `{ areas { code } }`, nil) }},
		{"login", func(token string) *apitest.Response {
			target, _ := env.NewUser(t, db.RoleBiller, "")
			return env.Do(t, token, loginMutation, map[string]any{"u": target.Username, "p": apitest.Password})
		}},
		{"logout", func(token string) *apitest.Response { return env.Do(t, token, `mutation { logout }`, nil) }},
		{"changePassword", func(token string) *apitest.Response {
			return env.Do(t, token, `mutation { changePassword(currentPassword: "Test#Pass1", newPassword: "Next#Pass2") }`, nil)
		}},
		{"createUser", func(token string) *apitest.Response {
			seq++
			return createUser(t, env, token, map[string]any{"username": fmt.Sprintf("matrix_%d", seq), "role": "DISPATCHER", "areaCode": "jaipur"})
		}},
		{"updateUser", func(token string) *apitest.Response {
			_, targetToken := env.NewUser(t, db.RoleBiller, "")
			return updateUser(t, env, token, idOf(t, env, targetToken), map[string]any{"email": "x@example.com"})
		}},
		{"deleteUser", func(token string) *apitest.Response {
			_, targetToken := env.NewUser(t, db.RoleBiller, "")
			return deleteUser(t, env, token, idOf(t, env, targetToken))
		}},
	}
	// want[operation] = codes for ADMIN, BILLER, DISPATCHER, no token
	want := map[string][4]string{
		"me":             {"", "", "", ""},
		"users":          {"", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"},
		"areas":          {"", "", "", "UNAUTHENTICATED"},
		"login":          {"", "", "", ""},
		"logout":         {"", "", "", "UNAUTHENTICATED"},
		"changePassword": {"", "", "", "UNAUTHENTICATED"},
		"createUser":     {"", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"},
		"updateUser":     {"", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"},
		"deleteUser":     {"", "FORBIDDEN", "FORBIDDEN", "UNAUTHENTICATED"},
	}
	callers := []struct {
		name  string
		token func() string
	}{
		{"ADMIN", func() string { _, token := env.NewUser(t, db.RoleAdmin, ""); return token }},
		{"BILLER", func() string { _, token := env.NewUser(t, db.RoleBiller, ""); return token }},
		{"DISPATCHER", func() string { _, token := env.NewUser(t, db.RoleDispatcher, "hisar"); return token }},
		{"no token", func() string { return "" }},
	}
	for _, op := range operations {
		for i, caller := range callers {
			resp := op.call(caller.token())
			if got := resp.Code(); got != want[op.name][i] {
				t.Errorf("%s as %s: code %q (%v), want %q", op.name, caller.name, got, resp.Errors, want[op.name][i])
			}
		}
	}
}
