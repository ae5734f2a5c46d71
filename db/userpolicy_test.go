package db

import (
	"testing"

	"tracetrack/apperr"
)

func TestCheckUserUpdate(t *testing.T) {
	area := int64(3)
	admin := User{ID: 1, Username: "root", Role: RoleAdmin, Active: true}
	other := User{ID: 2, Username: "boss", Role: RoleAdmin, Active: true}
	biller := User{ID: 5, Username: "bill", Role: RoleBiller, Active: true}
	with := func(u User, edit func(*User)) *User { edit(&u); return &u }
	self, someone := int64(1), int64(2)

	tests := []struct {
		name   string
		actor  *int64
		before *User
		after  *User
		admins []int64
		want   apperr.Code // "": no error
	}{
		{"own role", &self, &admin, with(admin, func(u *User) { u.Role = RoleBiller }), []int64{1, 2}, apperr.Forbidden},
		{"deactivate self", &self, &admin, with(admin, func(u *User) { u.Active = false }), []int64{1, 2}, apperr.Forbidden},
		{"own email", &self, &admin, with(admin, func(u *User) { e := "a@b.c"; u.Email = &e }), []int64{1}, ""},
		{"demote another admin", &self, &other, with(other, func(u *User) { u.Role = RoleBiller }), []int64{1, 2}, ""},
		{"demote the last admin", &someone, &admin, with(admin, func(u *User) { u.Role = RoleBiller }), []int64{1}, apperr.Conflict},
		{"deactivate the last admin", nil, &admin, with(admin, func(u *User) { u.Active = false }), []int64{1}, apperr.Conflict},
		{"last admin keeps role", nil, &admin, with(admin, func(u *User) { u.PasswordHash = "x" }), []int64{1}, ""},
		{"reactivate an admin", nil, with(other, func(u *User) { u.Active = false }), &other, []int64{1}, ""},
		{"dispatcher without area", nil, &biller, with(biller, func(u *User) { u.Role = RoleDispatcher }), []int64{1}, apperr.BadUserInput},
		{"dispatcher with area", nil, &biller, with(biller, func(u *User) { u.Role = RoleDispatcher; u.AreaID = &area }), []int64{1}, ""},
		{"biller with area", nil, &biller, with(biller, func(u *User) { u.AreaID = &area }), []int64{1}, apperr.BadUserInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkUserUpdate(tt.actor, tt.before, tt.after, tt.admins)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if got := apperr.CodeOf(err); got != tt.want {
				t.Fatalf("got %v (%s), want %s", err, got, tt.want)
			}
		})
	}
}

func TestCheckUserDelete(t *testing.T) {
	admin := &User{ID: 1, Username: "root", Role: RoleAdmin, Active: true}
	self, someone := int64(1), int64(2)
	if got := apperr.CodeOf(checkUserDelete(&self, admin, []int64{1, 2})); got != apperr.Forbidden {
		t.Errorf("delete self: %s, want FORBIDDEN", got)
	}
	if got := apperr.CodeOf(checkUserDelete(&someone, admin, []int64{1})); got != apperr.Conflict {
		t.Errorf("delete the last admin: %s, want CONFLICT", got)
	}
	if err := checkUserDelete(&someone, admin, []int64{1, 2}); err != nil {
		t.Errorf("delete one of two admins: %v", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{" a.b@example.com ": "a.b@example.com", "": "", "   ": ""} {
		got, err := normalizeEmail(&in)
		if err != nil || (got == nil) != (want == "") || (got != nil && *got != want) {
			t.Errorf("normalizeEmail(%q) = %v, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"nobody", "Name <a@b.c>", "a@", "a b@c.d"} {
		if _, err := normalizeEmail(&bad); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("normalizeEmail(%q) = %v, want BAD_USER_INPUT", bad, err)
		}
	}
}
