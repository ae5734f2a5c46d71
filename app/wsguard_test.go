package app

import (
	"testing"

	"tracetrack/auth"
	"tracetrack/db"
)

func TestSessionVerdict(t *testing.T) {
	jaipur, lucknow := int64(3), int64(1)
	held := &auth.Session{TokenID: 7, User: &db.User{ID: 1, Role: db.RoleDispatcher, AreaID: &jaipur, PasswordHash: "h1", Active: true}}
	with := func(change func(*db.User)) db.SessionState {
		u := *held.User
		change(&u)
		return db.SessionState{Token: db.TokenLive, User: &u}
	}
	for _, tc := range []struct {
		name  string
		state db.SessionState
		code  int
	}{
		{"unchanged", with(func(*db.User) {}), 0},
		{"same area, another pointer", with(func(u *db.User) { a := jaipur; u.AreaID = &a }), 0},
		{"email changed", with(func(u *db.User) { e := "x@example.com"; u.Email = &e }), 0},
		{"role changed", with(func(u *db.User) { u.Role = db.RoleBiller; u.AreaID = nil }), closeForbidden},
		{"area changed", with(func(u *db.User) { u.AreaID = &lucknow }), closeForbidden},
		{"password changed", with(func(u *db.User) { u.PasswordHash = "h2" }), closeForbidden},
		{"token revoked or user deactivated", db.SessionState{Token: db.TokenRevoked}, closeForbidden},
		{"token expired", db.SessionState{Token: db.TokenExpired}, closeUnauthorized},
	} {
		code, reason := sessionVerdict(held, tc.state)
		if code != tc.code || (code != 0 && reason == "") {
			t.Errorf("%s: got %d %q, want %d with a reason", tc.name, code, reason, tc.code)
		}
	}
}
