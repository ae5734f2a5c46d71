package live

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"tracetrack/db"
)

// ApplicationName names the LISTEN connection in pg_stat_activity.
const ApplicationName = "tracetrack_live"

const (
	pageSize     = 1000
	pingInterval = 30 * time.Second
	retryEvery   = time.Second
	// billMargin is how far before the connection was lost the hub re-reads changed bills:
	// updated_at is the start of the writing transaction, which may be a little earlier.
	billMargin = time.Minute
)

// listener owns the LISTEN connection and turns notifications into published events. Only
// its goroutine touches seen, pendingBills and behind.
type listener struct {
	hub  *Hub
	pq   *pq.Listener
	seen *seenWindow
	// behind is set when a read failed: the next tick re-reads the scan log.
	behind       bool
	pendingBills map[int64]struct{}
	seeded       bool

	mu     sync.Mutex
	lostAt time.Time
	// lost is set when the connection drops and cleared when lib/pq reports the new one: the
	// first notifications on the new connection may arrive before that report, and what
	// committed during the gap must be published before them, in id order.
	lost bool

	stop    chan struct{}
	stopped chan struct{}
}

// readConns is the size of the hub's own connection pool. Its reads (the scan log after each
// notification, replays, changed bills) then never queue behind request traffic for one of
// the shared pool's connections: under a 1,000-user load that queue held events back for
// tens of seconds.
const readConns = 3

// Start builds the hub and its LISTEN connection. It waits up to ready for the connection so
// that what commits after Start returns is published; past that it goes on connecting in the
// background. The hub reads through a pool of its own, or through store when that pool
// cannot be opened now.
func Start(store *db.Store, opts Options, ready time.Duration) *Hub {
	opts.defaults()
	if opts.Stats == nil {
		opts.Stats = storeStats(store, opts.BusinessTimeZone, opts.Now)
	}
	h := &Hub{opts: opts, store: store, subs: make(map[*subscription]struct{}),
		stats: newStatsCache(opts.Stats)}
	ctx, cancel := context.WithTimeout(context.Background(), ready)
	if own, err := db.Open(ctx, opts.DatabaseURL, readConns); err == nil {
		h.store, h.ownStore = own, true
	} else {
		opts.Logger.Warn("live: reading events through the shared pool", "err", err)
	}
	cancel()
	l := &listener{hub: h, pendingBills: make(map[int64]struct{}),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	l.pq = pq.NewListener(withApplicationName(opts.DatabaseURL, ApplicationName), 100*time.Millisecond, 5*time.Second, l.onEvent)
	h.listen = l
	connected := make(chan struct{})
	go l.run(connected)
	select {
	case <-connected:
	case <-time.After(ready):
		opts.Logger.Warn("live: LISTEN connection not up yet; subscriptions start when it is", "waited", ready)
	}
	return h
}

// withApplicationName adds application_name to a URL or key=value connection string.
func withApplicationName(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " application_name=" + name
}

func (l *listener) onEvent(ev pq.ListenerEventType, err error) {
	if ev == pq.ListenerEventDisconnected {
		l.mu.Lock()
		l.lostAt = time.Now()
		l.lost = true
		l.mu.Unlock()
		l.hub.opts.Logger.Warn("live: LISTEN connection lost; reconnecting", "err", err)
	}
}

func (l *listener) close() {
	close(l.stop)
	_ = l.pq.Close()
	<-l.stopped
}

func (l *listener) run(connected chan struct{}) {
	defer close(l.stopped)
	if err := l.pq.Listen(Channel); err != nil {
		return // closed before it ever connected
	}
	l.onConnected()
	close(connected)
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	retry := time.NewTicker(retryEvery)
	defer retry.Stop()
	for {
		select {
		case <-l.stop:
			return
		case n := <-l.pq.Notify:
			if n == nil {
				l.onConnected()
				continue
			}
			l.handle(l.drain(n))
		case <-retry.C:
			if !l.seeded || l.behind || len(l.pendingBills) > 0 {
				l.catchUp(time.Time{})
			}
		case <-ping.C:
			go func() { _ = l.pq.Ping() }()
		}
	}
}

// drain takes n and every notification already queued behind it, so one burst of scans is
// read with one query.
func (l *listener) drain(n *pq.Notification) []string {
	payloads := []string{n.Extra}
	for len(payloads) < pageSize {
		select {
		case more := <-l.pq.Notify:
			if more == nil {
				l.behind = true // reconnected meanwhile: catch up after this batch
				return payloads
			}
			payloads = append(payloads, more.Extra)
		default:
			return payloads
		}
	}
	return payloads
}

// onConnected runs when the LISTEN connection is (re)established: the first time it marks
// the current log as already seen; after a loss it re-reads what may have been missed.
func (l *listener) onConnected() {
	if !l.seeded {
		l.seed()
		return
	}
	l.mu.Lock()
	lostAt := l.lostAt
	l.lost = false
	l.mu.Unlock()
	l.catchUp(lostAt)
	l.hub.publish(Event{Resync: true})
}

// catchUpWhileLost re-reads what may have committed while the connection was down, before
// a notification is handled, until the new connection is reported (duplicates are skipped by
// the seen window).
func (l *listener) catchUpWhileLost() {
	l.mu.Lock()
	lostAt, lost := l.lostAt, l.lost
	l.mu.Unlock()
	if lost {
		l.catchUp(lostAt)
	}
}

// seed records the recent log as seen, so the first catch-up does not replay old scans as new.
func (l *listener) seed() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last, err := l.hub.store.LastScanID(ctx)
	if err != nil {
		l.hub.opts.Logger.Error("live: read the last scan id", "err", err)
		return // try again on the next (re)connection
	}
	l.seen = newSeenWindow(l.hub.opts.CatchUpWindow, last)
	l.hub.floor.Store(l.seen.floor())
	l.seeded = true
	if !l.readScans(ctx, db.ScanLogFilter{AfterID: l.seen.floor(), ThroughID: last}, false) {
		l.behind = true
	}
}
