package live

import (
	"cmp"
	"sort"

	"tracetrack/db"
)

// Position is where an event stands in the feed. Every instance reads the same ticks, so
// every instance gives an event the same position and publishes in the same order: by tick
// (commit order, to the moment each tick was taken), then scans before bills, then by
// transaction id, then row id. A resumed subscriber skips what it replayed by comparing
// positions, whichever instance the replay and the live events come from.
type Position struct {
	Tick int64
	Kind positionKind
	XID  uint64
	ID   int64
}

type positionKind uint8

const (
	atScan positionKind = iota
	atBill
	atBillDeletion
	// atTickEnd follows everything of its tick: replay reached the end of it.
	atTickEnd
)

// compare orders positions: -1 when p comes before q, +1 after, 0 the same.
func (p Position) compare(q Position) int {
	return cmp.Or(cmp.Compare(p.Tick, q.Tick), cmp.Compare(p.Kind, q.Kind),
		cmp.Compare(p.XID, q.XID), cmp.Compare(p.ID, q.ID))
}

// after reports whether p comes after q.
func (p Position) after(q Position) bool { return p.compare(q) > 0 }

// endOf is the position after everything of the tick.
func endOf(tick int64) Position { return Position{Tick: tick, Kind: atTickEnd} }

// tickOf returns the first of ticks (oldest first) whose snapshot sees the transaction: the
// batch it belongs to. Snapshots of later ticks see all that earlier ones saw, so the search
// is a bisection. The caller read the row as seen by the last tick.
func tickOf(xid uint64, ticks []db.Tick) int64 {
	i := sort.Search(len(ticks)-1, func(i int) bool { return ticks[i].Snap.Sees(xid) })
	return ticks[i].ID
}
