package live

import (
	"slices"
	"testing"
)

func TestParseNotification(t *testing.T) {
	t.Parallel()
	for payload, want := range map[string]notification{
		"s:5:9":    {scansFrom: 5, scansTo: 9},
		"s:7:7":    {scansFrom: 7, scansTo: 7},
		"b:3":      {bills: []int64{3}},
		"b:1,2,40": {bills: []int64{1, 2, 40}},
	} {
		got, err := parseNotification(payload)
		if err != nil || got.scansFrom != want.scansFrom || got.scansTo != want.scansTo || !slices.Equal(got.bills, want.bills) {
			t.Errorf("%q: got %+v %v, want %+v", payload, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "s:9:5", "s:0:1", "s:1", "b:", "b:1,,2", "b:-1", "x:1", "s:a:b"} {
		if _, err := parseNotification(bad); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
}

func FuzzParseNotification(f *testing.F) {
	for _, seed := range []string{"s:1:2", "b:1,2", "s:9:5", "b:", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		n, err := parseNotification(payload)
		if err != nil {
			return
		}
		if n.scansTo > 0 && (n.scansFrom < 1 || n.scansTo < n.scansFrom) {
			t.Fatalf("%q: bad range %+v", payload, n)
		}
		for _, id := range n.bills {
			if id < 1 {
				t.Fatalf("%q: bad bill id %d", payload, id)
			}
		}
	})
}

func TestSeenWindowSkipsDuplicatesAndLateIDsBelowTheWindow(t *testing.T) {
	t.Parallel()
	w := newSeenWindow(10, 100)
	if w.add(90) || w.add(85) {
		t.Fatal("ids at or below high-water - size must count as seen")
	}
	if !w.add(95) || w.add(95) {
		t.Fatal("an id in the window is new once, then seen")
	}
	if !w.add(101) || !w.add(99) {
		t.Fatal("a late id inside the window (committed out of order) must be new")
	}
	for id := int64(102); id < 200; id++ {
		w.add(id)
	}
	if len(w.ids) > 2*10+1 {
		t.Fatalf("window holds %d ids, want at most about 2 x size", len(w.ids))
	}
	if w.add(150) {
		t.Fatal("an id far below the high-water mark must count as seen")
	}
}

func TestReplaySetForgetsBelowTheHubFloor(t *testing.T) {
	t.Parallel()
	r := &replaySet{ids: map[int64]struct{}{}, window: 8}
	for id := int64(1); id <= 10; id++ {
		r.add(id)
	}
	if !r.sent(4, 0) || r.sent(4, 0) {
		t.Fatal("a replayed id is a duplicate once")
	}
	if r.sent(11, 0) {
		t.Fatal("an id never replayed is not a duplicate")
	}
	r.sent(12, 6)
	if _, kept := r.ids[5]; kept || len(r.ids) != 4 {
		t.Fatalf("ids at or below the floor must be forgotten; left %v", r.ids)
	}
	r.sent(13, 10)
	if len(r.ids) != 0 {
		t.Fatalf("everything is below the floor; left %v", r.ids)
	}
}
