package db

import "testing"

func TestExportQuerySlotsLeaveMostOfThePool(t *testing.T) {
	for _, tc := range []struct{ pool, slots int }{{1, 1}, {3, 1}, {4, 1}, {8, 2}, {20, 5}, {100, 25}} {
		if got := exportQuerySlots(tc.pool); got != tc.slots {
			t.Errorf("pool %d: %d export query slots, want %d", tc.pool, got, tc.slots)
		}
	}
}
