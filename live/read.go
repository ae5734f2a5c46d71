package live

import (
	"context"
	"errors"
	"slices"

	"tracetrack/db"
)

// errStopped ends a read whose receiver left.
var errStopped = errors.New("live: the receiver left")

// batchQuery says what a read of the feed returns.
type batchQuery struct {
	// actor's scope bounds the scans (db.System: all).
	actor db.Actor
	scans db.LiveScanFilter
	// bills adds bill changes and deletions to the scans.
	bills bool
}

// everything is what the feed publishes: every scan, bill change and bill deletion.
var everything = batchQuery{actor: db.System, bills: true}

// readBatches emits, in feed order, the events of the batches of ticks (oldest first; from
// is the tick before them) that come after skip, until emit returns false. A batch is what
// its tick's snapshot sees and the tick before did not.
func (h *Hub) readBatches(ctx context.Context, q batchQuery, from db.Tick, ticks []db.Tick, skip Position, emit func(Event) bool) error {
	if len(ticks) == 1 {
		return h.readTick(ctx, q, from, ticks[0], skip, emit)
	}
	last := ticks[len(ticks)-1]
	var scans []db.LiveScan
	if slices.ContainsFunc(ticks, func(t db.Tick) bool { return t.Scans }) {
		var err error
		if scans, err = h.store.LiveScans(ctx, q.actor, from.Snap, last.Snap, q.scans, pageSize+1); err != nil {
			return err
		}
	}
	if len(scans) > pageSize { // too much for one read: halve the ticks
		mid := len(ticks) / 2
		if err := h.readBatches(ctx, q, from, ticks[:mid], skip, emit); err != nil {
			return err
		}
		return h.readBatches(ctx, q, ticks[mid-1], ticks[mid:], skip, emit)
	}
	events := make([]Event, 0, len(scans))
	for i := range scans {
		s := &scans[i]
		events = append(events, Event{Scan: &s.Scan, Pos: Position{Tick: tickOf(s.WriteXID, ticks), Kind: atScan, XID: s.WriteXID, ID: s.ID}})
	}
	if q.bills && slices.ContainsFunc(ticks, func(t db.Tick) bool { return t.Bills }) {
		bills, err := h.billEvents(ctx, from, ticks)
		if err != nil {
			return err
		}
		events = append(events, bills...)
	}
	slices.SortFunc(events, func(a, b Event) int { return a.Pos.compare(b.Pos) })
	return emitAfter(events, skip, emit)
}

// readTick emits the events of one tick's batch after skip, reading its scans page by page.
func (h *Hub) readTick(ctx context.Context, q batchQuery, from, tick db.Tick, skip Position, emit func(Event) bool) error {
	page := q.scans
	if skip.Tick == tick.ID && skip.Kind == atScan {
		page.AfterXID, page.AfterID = skip.XID, skip.ID
	}
	for tick.Scans {
		scans, err := h.store.LiveScans(ctx, q.actor, from.Snap, tick.Snap, page, pageSize)
		if err != nil {
			return err
		}
		for i := range scans {
			s := &scans[i]
			ev := Event{Scan: &s.Scan, Pos: Position{Tick: tick.ID, Kind: atScan, XID: s.WriteXID, ID: s.ID}}
			if ev.Pos.after(skip) && !emit(ev) {
				return errStopped
			}
		}
		if len(scans) < pageSize {
			break
		}
		page.AfterXID, page.AfterID = scans[len(scans)-1].WriteXID, scans[len(scans)-1].ID
	}
	if !q.bills || !tick.Bills {
		return nil
	}
	bills, err := h.billEvents(ctx, from, []db.Tick{tick})
	if err != nil {
		return err
	}
	return emitAfter(bills, skip, emit)
}

// billEvents returns the bill changes and deletions of the ticks' batches, in feed order
// within each tick. A changed bill is published as it is now; a deletion publishes a
// resync, once per deleting transaction (the stats moved; billUpdated has nothing to send).
func (h *Hub) billEvents(ctx context.Context, from db.Tick, ticks []db.Tick) ([]Event, error) {
	last := ticks[len(ticks)-1]
	bills, err := h.store.LiveBills(ctx, from.Snap, last.Snap)
	if err != nil {
		return nil, err
	}
	deletions, err := h.store.LiveBillDeletions(ctx, from.Snap, last.Snap)
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, len(bills)+len(deletions))
	for i := range bills {
		b := &bills[i]
		events = append(events, Event{Bill: &b.Bill, Pos: Position{Tick: tickOf(b.ChangeXID, ticks), Kind: atBill, XID: b.ChangeXID, ID: b.ID}})
	}
	for _, xid := range deletions {
		events = append(events, Event{Resync: true, Pos: Position{Tick: tickOf(xid, ticks), Kind: atBillDeletion, XID: xid}})
	}
	return events, nil
}

func emitAfter(events []Event, skip Position, emit func(Event) bool) error {
	for _, ev := range events {
		if ev.Pos.after(skip) && !emit(ev) {
			return errStopped
		}
	}
	return nil
}

// replayScans sends the scans matching f that the feed placed after the scan f.After, in
// feed order, through the latest tick, and returns the position it replayed through: the
// live events at or before it were sent already.
//
// The resumed scan's transaction id finds the first tick that saw it; the replay starts in
// that tick's batch right after the scan, so a scan that committed after it (even with a
// lower id) is replayed and one that committed before it is not, whichever instance
// delivered it first.
func (h *Hub) replayScans(ctx context.Context, f ScanFilter, send func(*db.Scan) bool) (Position, error) {
	// A tick now: the client may know the scan from a mutation's answer before any tick saw it.
	if _, err := h.store.LiveTick(ctx); err != nil {
		return Position{}, err
	}
	q := batchQuery{actor: f.Actor, scans: db.LiveScanFilter{AreaID: f.AreaID, Kinds: f.Kinds}}
	from, skip, err := h.resumePoint(ctx, q, f.After, send)
	if err != nil {
		return Position{}, err
	}
	emit := func(ev Event) bool { return send(ev.Scan) }
	for {
		ticks, err := h.store.LiveTicksAfter(ctx, from.ID, ticksPerRead)
		if err != nil {
			return Position{}, err
		}
		if len(ticks) == 0 {
			return endOf(from.ID), nil
		}
		if err := h.readBatches(ctx, q, from, ticks, skip, emit); err != nil {
			return Position{}, err
		}
		from = ticks[len(ticks)-1]
	}
}

// resumePoint returns the tick before the one that saw the scan and the scan's position.
// A scan older than every tick kept (ticks last an hour; scans logged before the feed have no
// transaction id) is resumed by id: the log up to the oldest tick is sent first, in id order.
func (h *Hub) resumePoint(ctx context.Context, q batchQuery, scanID int64, send func(*db.Scan) bool) (db.Tick, Position, error) {
	xid, err := h.store.ScanWriteXID(ctx, scanID)
	if err != nil {
		return db.Tick{}, Position{}, err
	}
	if xid != nil {
		seen, err := h.store.FirstTickSeeing(ctx, *xid)
		if err != nil {
			return db.Tick{}, Position{}, err
		}
		if seen != nil {
			before, err := h.store.LiveTickBefore(ctx, seen.ID)
			if err != nil {
				return db.Tick{}, Position{}, err
			}
			if before != nil {
				return *before, Position{Tick: seen.ID, Kind: atScan, XID: *xid, ID: scanID}, nil
			}
		}
	}
	oldest, err := h.store.LiveTicksAfter(ctx, 0, 1)
	if err != nil || len(oldest) == 0 {
		return db.Tick{}, Position{}, err
	}
	for after := scanID; ; {
		scans, err := h.store.ScansSeenBy(ctx, q.actor, oldest[0].Snap, after, q.scans, pageSize)
		if err != nil {
			return db.Tick{}, Position{}, err
		}
		for _, s := range scans {
			if !send(s) {
				return db.Tick{}, Position{}, errStopped
			}
			after = s.ID
		}
		if len(scans) < pageSize {
			return oldest[0], endOf(oldest[0].ID), nil
		}
	}
}
