package db

import (
	"slices"
	"testing"
)

func TestParseSnapshot(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]Snapshot{
		"10:20:":         {Xmin: 10, Xmax: 20},
		"10:10:":         {Xmin: 10, Xmax: 10},
		"10:20:10,14,15": {Xmin: 10, Xmax: 20, Xip: []uint64{10, 14, 15}},
	} {
		got, err := ParseSnapshot(text)
		if err != nil || got.Xmin != want.Xmin || got.Xmax != want.Xmax || !slices.Equal(got.Xip, want.Xip) {
			t.Errorf("%q: got %+v %v, want %+v", text, got, err, want)
		}
		if got.String() != text {
			t.Errorf("%q prints as %q", text, got.String())
		}
	}
	for _, bad := range []string{"", "10:20", "10:20:x", "20:10:", "0:1:", "10:20:9", "10:20:20", "10:20:14,12", "10:20:14,14", "a:b:"} {
		if _, err := ParseSnapshot(bad); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
}

func TestSnapshotSees(t *testing.T) {
	t.Parallel()
	s := Snapshot{Xmin: 10, Xmax: 20, Xip: []uint64{10, 14}}
	for xid, want := range map[uint64]bool{3: true, 9: true, 10: false, 11: true, 14: false, 19: true, 20: false, 25: false} {
		if got := s.Sees(xid); got != want {
			t.Errorf("Sees(%d) = %v, want %v", xid, got, want)
		}
	}
}

func FuzzParseSnapshot(f *testing.F) {
	for _, seed := range []string{"10:20:", "10:20:10,14", "1:1:", "5:3:", ":::"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSnapshot(text)
		if err != nil {
			return
		}
		if s.Xmin > s.Xmax || !slices.IsSorted(s.Xip) {
			t.Fatalf("%q: bad snapshot %+v", text, s)
		}
		for _, x := range s.Xip {
			if x < s.Xmin || x >= s.Xmax || s.Sees(x) {
				t.Fatalf("%q: in-progress %d out of range or seen", text, x)
			}
		}
		again, err := ParseSnapshot(s.String())
		if err != nil || again.String() != s.String() {
			t.Fatalf("%q: does not round-trip: %q %v", text, s.String(), err)
		}
	})
}
