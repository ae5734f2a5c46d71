package live

import (
	"context"
	"slices"

	"tracetrack/db"
)

// ScanFilter selects the scans a scanAdded subscriber receives.
type ScanFilter struct {
	// Actor is the subscriber: they receive only scans of areas they may see (db.Actor's
	// scope), whatever else the filter says.
	Actor db.Actor
	// AreaID keeps one area (nil: every area).
	AreaID *int64
	// Kinds keeps these kinds (empty: every kind).
	Kinds []db.ScanKind
	// After replays every matching scan with a higher id from the log first (0: no replay).
	After int64
}

func (f ScanFilter) match(ev Event) bool {
	s := ev.Scan
	if s == nil || !f.Actor.MaySeeArea(s.AreaID) {
		return false
	}
	if f.AreaID != nil && (s.AreaID == nil || *s.AreaID != *f.AreaID) {
		return false
	}
	return len(f.Kinds) == 0 || slices.Contains(f.Kinds, s.Kind)
}

// ScanAdded streams the scans matching f: first the log after f.After, then live.
//
// No gap and no duplicate: the subscriber joins the hub before it reads the log, so a scan
// committed after the read is published to it, and one both read and published is skipped by
// id. Replayed ids can be forgotten once they fall below the hub's floor: the hub publishes
// nothing at or below it (see seenWindow).
func (h *Hub) ScanAdded(ctx context.Context, f ScanFilter, fail Fail) (<-chan *db.Scan, error) {
	sub := h.subscribe(ctx, f.match, false)
	if sub == nil {
		return nil, ErrClosed
	}
	s := newStream[*db.Scan](ctx, h, "scanAdded", sub, fail)
	go func() {
		defer s.end()
		replayed, ok := replayScans(ctx, s, f)
		if !ok {
			return
		}
		last := replayed.last
		for {
			ev, ok := s.next(ctx, last)
			if !ok {
				return
			}
			if replayed.sent(ev.Scan.ID, h.floor.Load()) {
				continue
			}
			s.handing(ev.Scan.ID)
			if !s.send(ctx, ev.Scan) {
				return
			}
			last = ev.Scan.ID
		}
	}()
	return s.out, nil
}

// replayScans sends the log after f.After and returns what it sent.
func replayScans(ctx context.Context, s *stream[*db.Scan], f ScanFilter) (*replaySet, bool) {
	replayed := &replaySet{ids: make(map[int64]struct{}), window: s.hub.opts.CatchUpWindow}
	if f.After == 0 {
		return replayed, true
	}
	page := db.ScanLogFilter{AfterID: f.After, AreaID: f.AreaID, Kinds: f.Kinds}
	for {
		scans, err := s.hub.store.ScanLog(ctx, f.Actor, page, pageSize)
		if err != nil {
			s.fail(err)
			return nil, false
		}
		for _, scan := range scans {
			s.handing(scan.ID)
			if !s.send(ctx, scan) {
				return nil, false
			}
			replayed.add(scan.ID)
			page.AfterID = scan.ID
		}
		replayed.forgetBelow(s.hub.floor.Load())
		if len(scans) < pageSize {
			return replayed, true
		}
	}
}

// replaySet holds the ids a resumed subscriber got from the log, to skip them when the hub
// publishes them too.
type replaySet struct {
	ids    map[int64]struct{}
	last   int64
	floor  int64
	window int64
}

func (r *replaySet) add(id int64) {
	r.ids[id] = struct{}{}
	r.last = id
}

// sent reports whether id was replayed. floor is the hub's floor: below it nothing is
// published any more, so the ids there are forgotten (in steps, to keep this cheap).
func (r *replaySet) sent(id, floor int64) bool {
	if len(r.ids) == 0 {
		return false
	}
	_, dup := r.ids[id]
	delete(r.ids, id)
	if floor >= r.floor+r.window/4 {
		r.forgetBelow(floor)
	}
	return dup
}

func (r *replaySet) forgetBelow(floor int64) {
	r.floor = floor
	if floor >= r.last {
		clear(r.ids)
		return
	}
	for id := range r.ids {
		if id <= floor {
			delete(r.ids, id)
		}
	}
}
