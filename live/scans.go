package live

import (
	"context"
	"errors"
	"slices"
	"time"

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
// No gap and no duplicate: the subscriber joins the hub before it replays, so a scan the hub
// publishes after the replay's read is queued for it, and one both replayed and published is
// skipped by its feed position (replayScans).
func (h *Hub) ScanAdded(ctx context.Context, f ScanFilter, fail Fail) (<-chan *db.Scan, error) {
	sub := h.subscribe(ctx, f.match, false)
	if sub == nil {
		return nil, ErrClosed
	}
	s := newStream[*db.Scan](ctx, h, "scanAdded", sub, fail)
	go func() {
		defer s.end()
		var last int64
		var replayed Position
		if f.After != 0 {
			var err error
			replayed, err = h.replayScans(ctx, f, func(scan *db.Scan) bool {
				last = scan.ID
				s.handing(scan.ID, time.Time{})
				return s.send(ctx, scan)
			})
			if err != nil {
				if !errors.Is(err, errStopped) {
					s.fail(err)
				}
				return
			}
		}
		for {
			ev, ok := s.next(ctx, last)
			if !ok {
				return
			}
			if !ev.Pos.after(replayed) {
				continue
			}
			s.handing(ev.Scan.ID, ev.published)
			if !s.send(ctx, ev.Scan) {
				return
			}
			last = ev.Scan.ID
		}
	}()
	return s.out, nil
}
