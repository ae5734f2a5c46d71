package live

import (
	"slices"
	"testing"

	"tracetrack/db"
)

func snap(t *testing.T, text string) db.Snapshot {
	t.Helper()
	s, err := db.ParseSnapshot(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTickOfIsTheFirstTickThatSeesTheTransaction(t *testing.T) {
	t.Parallel()
	// Transaction 12 stays open through ticks 2 and 3 while 13 and 14 commit.
	ticks := []db.Tick{
		{ID: 1, Snap: snap(t, "10:12:10")},
		{ID: 2, Snap: snap(t, "12:14:12")},
		{ID: 3, Snap: snap(t, "12:15:12")},
		{ID: 5, Snap: snap(t, "15:15:")},
	}
	for xid, want := range map[uint64]int64{9: 1, 11: 1, 10: 2, 13: 2, 14: 3, 12: 5} {
		if got := tickOf(xid, ticks); got != want {
			t.Errorf("transaction %d: tick %d, want %d", xid, got, want)
		}
	}
}

func TestPositionsOrderByTickKindTransactionAndID(t *testing.T) {
	t.Parallel()
	want := []Position{
		{Tick: 1, Kind: atScan, XID: 9, ID: 50},
		{Tick: 1, Kind: atScan, XID: 10, ID: 3},
		{Tick: 1, Kind: atScan, XID: 10, ID: 4},
		{Tick: 1, Kind: atBill, XID: 8, ID: 1},
		{Tick: 1, Kind: atBillDeletion, XID: 9},
		endOf(1),
		{Tick: 2, Kind: atScan, XID: 7, ID: 2},
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, Position.compare)
	if !slices.Equal(got, want) {
		t.Fatalf("sorted %v, want %v", got, want)
	}
	for i := range want {
		for j := range want {
			if want[i].after(want[j]) != (i > j) {
				t.Errorf("%v after %v: %v, want %v", want[i], want[j], want[i].after(want[j]), i > j)
			}
		}
	}
}
