package db

import (
	"testing"
	"time"

	"tracetrack/apperr"
)

func ptr[T any](v T) *T { return &v }

func TestActorMaySeeArea(t *testing.T) {
	jaipur, lucknow := ptr[int64](3), ptr[int64](1)
	dispatcher := Actor{UserID: ptr[int64](7), Role: RoleDispatcher, AreaID: jaipur}
	cases := []struct {
		name  string
		actor Actor
		area  *int64
		want  bool
	}{
		{"admin, an area", Actor{Role: RoleAdmin}, lucknow, true},
		{"admin, no area", Actor{Role: RoleAdmin}, nil, true},
		{"biller, an area", Actor{Role: RoleBiller}, lucknow, true},
		{"biller, no area", Actor{Role: RoleBiller}, nil, true},
		{"the server", System, lucknow, true},
		{"dispatcher, own area", dispatcher, ptr[int64](3), true},
		{"dispatcher, another area", dispatcher, lucknow, false},
		{"dispatcher, a bag of no area", dispatcher, nil, false},
		{"dispatcher without an area", Actor{Role: RoleDispatcher}, nil, false},
		{"nobody (zero actor)", Actor{}, lucknow, false},
		{"nobody, no area", Actor{}, nil, false},
		{"unknown role", Actor{Role: "GUEST", AreaID: lucknow}, lucknow, false},
	}
	for _, c := range cases {
		if got := c.actor.MaySeeArea(c.area); got != c.want {
			t.Errorf("%s: MaySeeArea = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestActorReadScope: the area filter of lists, counts, summaries, stats and subscriptions
// agrees with MaySeeArea for every asked area, and never widens a dispatcher's view.
func TestActorReadScope(t *testing.T) {
	jaipur, lucknow := ptr[int64](3), ptr[int64](1)
	dispatcher := Actor{Role: RoleDispatcher, AreaID: jaipur}
	cases := []struct {
		name  string
		actor Actor
		asked *int64
		want  *int64
		code  apperr.Code
	}{
		{"admin, none asked: every area", Actor{Role: RoleAdmin}, nil, nil, ""},
		{"admin, an area", Actor{Role: RoleAdmin}, lucknow, lucknow, ""},
		{"biller, none asked", Actor{Role: RoleBiller}, nil, nil, ""},
		{"biller, an area", Actor{Role: RoleBiller}, lucknow, lucknow, ""},
		{"dispatcher, none asked: own", dispatcher, nil, jaipur, ""},
		{"dispatcher, own", dispatcher, ptr[int64](3), jaipur, ""},
		{"dispatcher, another: forbidden", dispatcher, lucknow, nil, apperr.Forbidden},
		{"dispatcher without an area", Actor{Role: RoleDispatcher}, nil, nil, apperr.Unauthenticated},
		{"nobody", Actor{}, nil, nil, apperr.Unauthenticated},
		{"nobody, an area", Actor{}, lucknow, nil, apperr.Unauthenticated},
	}
	for _, c := range cases {
		got, err := c.actor.ReadScope(c.asked)
		if code := apperr.CodeOf(err); err != nil && code != c.code || err == nil && c.code != "" {
			t.Errorf("%s: error %v, want code %q", c.name, err, c.code)
			continue
		}
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: scope %v, want %v", c.name, deref(got), deref(c.want))
		}
		// whatever a scope lets through, MaySeeArea lets through too
		if err == nil && got != nil && !c.actor.MaySeeArea(got) {
			t.Errorf("%s: scope %d is an area the actor may not see", c.name, *got)
		}
		if err == nil && got == nil && !c.actor.seesAllAreas() {
			t.Errorf("%s: every area for an actor who does not see every area", c.name)
		}
	}
}

// TestActorScopeParam: the SQL form of the scope (NULL: every area) matches MaySeeArea.
func TestActorScopeParam(t *testing.T) {
	jaipur := ptr[int64](3)
	cases := []struct {
		name  string
		actor Actor
		want  *int64
	}{
		{"admin", Actor{Role: RoleAdmin}, nil},
		{"biller", Actor{Role: RoleBiller}, nil},
		{"dispatcher", Actor{Role: RoleDispatcher, AreaID: jaipur}, jaipur},
		{"dispatcher without an area", Actor{Role: RoleDispatcher}, ptr(noArea)},
		{"nobody", Actor{}, ptr(noArea)},
	}
	for _, c := range cases {
		got := c.actor.scopeParam()
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: scope parameter %v, want %v", c.name, deref(got), deref(c.want))
		}
	}
}

func TestUserVisibleTo(t *testing.T) {
	login := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	user := &User{ID: 5, Username: "ravi", Email: ptr("ravi@example.com"), Role: RoleDispatcher,
		AreaID: ptr[int64](3), LastLoginAt: &login}
	cases := []struct {
		name    string
		actor   Actor
		private bool
	}{
		{"an admin", Actor{UserID: ptr[int64](1), Role: RoleAdmin}, true},
		{"the user themself", Actor{UserID: ptr[int64](5), Role: RoleDispatcher, AreaID: ptr[int64](3)}, true},
		{"the server", System, true},
		{"a biller", Actor{UserID: ptr[int64](2), Role: RoleBiller}, false},
		{"a dispatcher of the same area", Actor{UserID: ptr[int64](6), Role: RoleDispatcher, AreaID: ptr[int64](3)}, false},
		{"a dispatcher of another area", Actor{UserID: ptr[int64](8), Role: RoleDispatcher, AreaID: ptr[int64](1)}, false},
		{"nobody", Actor{}, false},
	}
	for _, c := range cases {
		got := user.VisibleTo(c.actor)
		shown := got.Email != nil && got.LastLoginAt != nil
		hidden := got.Email == nil && got.LastLoginAt == nil
		if c.private && !shown || !c.private && !hidden {
			t.Errorf("%s: email %v, last login %v; private fields shown: want %v", c.name, got.Email, got.LastLoginAt, c.private)
		}
		if got.ID != user.ID || got.Username != user.Username || got.Role != user.Role || got.AreaID != user.AreaID {
			t.Errorf("%s: public fields changed: %+v", c.name, got)
		}
	}
	if user.Email == nil || user.LastLoginAt == nil {
		t.Error("VisibleTo changed the user it was given")
	}
	if (*User)(nil).VisibleTo(Actor{}) != nil {
		t.Error("a nil user stays nil")
	}
}

func deref(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}
