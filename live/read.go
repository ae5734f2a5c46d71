package live

import (
	"context"
	"time"

	"tracetrack/db"
)

const readTimeout = 30 * time.Second

// handle reads and publishes what a batch of notifications names.
func (l *listener) handle(payloads []string) {
	if !l.seeded {
		l.seed()
		if !l.seeded {
			return
		}
	}
	l.catchUpWhileLost()
	var span struct{ from, to int64 }
	for _, p := range payloads {
		n, err := parseNotification(p)
		if err != nil {
			l.hub.opts.Logger.Error("live: ignoring a notification", "err", err)
			continue
		}
		if n.scansTo > 0 {
			if span.to == 0 || n.scansFrom < span.from {
				span.from = n.scansFrom
			}
			span.to = max(span.to, n.scansTo)
		}
		for _, id := range n.bills {
			l.pendingBills[id] = struct{}{}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	// One read covers every notified range: ids between them are other statements' scans,
	// published now if committed (later notifications find them seen) and invisible if not.
	if span.to > 0 && !l.readScans(ctx, db.ScanLogFilter{AfterID: span.from - 1, ThroughID: span.to}, true) {
		l.behind = true
	}
	l.readBills(ctx)
}

// catchUp re-reads the scan log from the bottom of the seen window, and the bills changed
// since the connection was lost (zero lostAt: only the bills still pending).
func (l *listener) catchUp(lostAt time.Time) {
	if !l.seeded {
		l.seed()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	l.behind = !l.readScans(ctx, db.ScanLogFilter{AfterID: l.seen.floor()}, true)
	if !lostAt.IsZero() {
		bills, err := l.hub.store.BillsUpdatedSince(ctx, lostAt.Add(-billMargin))
		if err != nil {
			l.hub.opts.Logger.Error("live: re-read changed bills", "err", err)
		}
		for _, b := range bills {
			l.hub.publish(Event{Bill: b})
		}
	}
	l.readBills(ctx)
}

// readScans reads the log page by page and publishes (or, when seeding, only records) the
// scans not seen yet. It reports whether every page was read.
func (l *listener) readScans(ctx context.Context, f db.ScanLogFilter, publish bool) bool {
	for {
		scans, err := l.hub.store.ScanLog(ctx, db.System, f, pageSize)
		if err != nil {
			l.hub.opts.Logger.Error("live: read the scan log", "err", err)
			return false
		}
		for _, s := range scans {
			if l.seen.add(s.ID) && publish {
				l.hub.publish(Event{Scan: s})
			}
		}
		l.hub.floor.Store(l.seen.floor())
		if len(scans) < pageSize {
			return true
		}
		f.AfterID = scans[len(scans)-1].ID
	}
}

// readBills publishes the current state of the pending bills; a deleted bill has none and is
// dropped. On a failed read they stay pending for the next tick.
func (l *listener) readBills(ctx context.Context) {
	if len(l.pendingBills) == 0 {
		return
	}
	ids := make([]int64, 0, len(l.pendingBills))
	for id := range l.pendingBills {
		ids = append(ids, id)
	}
	bills, err := l.hub.store.LiveBills(ctx, ids)
	if err != nil {
		l.hub.opts.Logger.Error("live: read changed bills", "err", err)
		return
	}
	clear(l.pendingBills)
	for _, b := range bills {
		l.hub.publish(Event{Bill: b})
	}
	if len(bills) < len(ids) {
		l.hub.publish(Event{Resync: true}) // a bill was deleted: stats changed
	}
}
