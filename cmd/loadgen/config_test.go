package main

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAssignSpreadsRolesAndUsers(t *testing.T) {
	t.Parallel()
	s := seededUsers{DispatcherPrefix: "disp_", BillerPrefix: "biller_", AdminPrefix: "admin_",
		Areas: []string{"lucknow", "indore"}, DispatchersPerArea: 2, Billers: 3, Admins: 1}
	got := s.assign(40, false)
	roles := map[string]int{}
	for _, a := range got {
		roles[a.role]++
	}
	if roles[roleDispatcher] != 28 || roles[roleBiller] != 10 || roles[roleAdmin] != 2 {
		t.Errorf("roles = %v, want 28/10/2", roles)
	}
	want := []string{"disp_lucknow_1", "biller_1", "disp_indore_1", "disp_lucknow_2", "admin_1", "disp_indore_2", "biller_2"}
	for i, name := range want {
		if got[i].username != name {
			t.Errorf("user %d = %s, want %s", i, got[i].username, name)
		}
	}
	if got[7].username != "disp_lucknow_1" {
		t.Errorf("the fifth dispatcher should wrap to disp_lucknow_1, got %s", got[7].username)
	}
	for _, a := range s.assign(3, true) {
		if a.role != roleDispatcher {
			t.Errorf("login-storm users must all be dispatchers, got %s", a.role)
		}
	}
	if n := len(s.all()); n != 8 {
		t.Errorf("all() has %d users, want 8", n)
	}
}

func TestParseMix(t *testing.T) {
	t.Parallel()
	mix, err := parseMix("stats=3, child-scan=1,bill=0")
	if err != nil || len(mix) != 2 || mix[0].op.name != "stats" || mix[0].weight != 3 {
		t.Errorf("parseMix = %+v, %v", mix, err)
	}
	for _, bad := range []string{"", "stats", "stats=x", "nope=1", "stats=-1", "stats=0"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
	if got := forRole(mix, roleBiller); len(got) != 1 || got[0].op.name != "stats" {
		t.Errorf("billers do not scan children: %+v", got)
	}
}

func TestStormWindowOverlaps(t *testing.T) {
	t.Parallel()
	base := time.Unix(1000, 0)
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	var w stormWindow
	if w.overlaps(at(0), at(100)) {
		t.Error("no storm yet, nothing overlaps")
	}
	w.start.Store(at(10).UnixNano())
	if w.overlaps(at(1), at(9)) || !w.overlaps(at(9), at(11)) || !w.overlaps(at(50), at(51)) {
		t.Error("a running storm overlaps what ends after its start")
	}
	w.end.Store(at(20).UnixNano())
	if !w.overlaps(at(19), at(21)) || w.overlaps(at(21), at(22)) {
		t.Error("an ended storm overlaps only requests that started before its end")
	}
}

func TestPauseEndsWithTheRun(t *testing.T) {
	t.Parallel()
	vu := &virtualUser{rng: rand.New(rand.NewPCG(1, 2)), think: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		vu.pause(ctx)
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a think pause outlived the run")
	}
}
