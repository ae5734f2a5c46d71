// Package live publishes committed changes to subscribers: scans logged, bills changed, and
// the stats they move. Each instance reads committed changes from the database with a feed
// (feed.go: snapshots compared, no NOTIFY) and a hub fans them out in process. A slow
// subscriber never blocks the hub or the others: each has a bounded buffer and is ended with
// a reason when it overflows (it can resume scanAdded with `after`).
package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"tracetrack/db"
	"tracetrack/metrics"
)

// Event is one committed change: a scan logged or a bill's new state. Resync says something
// changed that has no event of its own (a bill was deleted): views derived from many rows,
// such as stats, must refresh. Pos is the event's place in the feed (position.go).
type Event struct {
	Scan   *db.Scan
	Bill   *db.Bill
	Resync bool
	Pos    Position
	// published is when the hub handed it out (how far behind a shared stream is).
	published time.Time
}

// StatsSource computes the stats of an area (nil: all areas); the subscriber's scope was
// applied when it subscribed (the area is already the one it may read).
type StatsSource func(ctx context.Context, areaID *int64) (*db.Stats, error)

// Options configure the hub.
type Options struct {
	// DatabaseURL is the database the hub's own pool opens.
	DatabaseURL string
	// Buffer is how many events a subscriber may fall behind before it is ended (default
	// DefaultBuffer); a subscriber of a shared subscription, how many frames its socket may
	// have queued (the shared stream itself may fall sharedBacklog times as far behind).
	Buffer int
	// PollInterval is how often the feed looks for changes committed through other instances
	// or other clients (default 50ms); this instance's own commits wake it at once.
	PollInterval time.Duration
	// StatsInterval is the shortest time between two statsUpdated events (default 1s).
	StatsInterval time.Duration
	// Stats computes statsUpdated's payload (default: the store's stats of the business day
	// in BusinessTimeZone, as the stats query reads them).
	Stats StatsSource
	// BusinessTimeZone decides what "scans today" means (default UTC); Now is the clock
	// (default time.Now).
	BusinessTimeZone *time.Location
	Now              func() time.Time
	Logger           *slog.Logger
}

// DefaultBuffer is Options.Buffer when unset.
const DefaultBuffer = 256

// sharedBacklog is how many times Buffer a shared stream (one execution for many
// subscribers) may fall behind. The feed publishes a batch of events at once, faster than any
// stream can take them: at 4,000 scans a second a poll delayed by 70 ms is a burst of 280,
// which cut every subscriber of a shared stream at once when it was held to 256. Its buffer
// is one per group, not per subscriber (16 x 256 pointers: 32 KiB), and each subscriber is
// still cut alone when its own socket has Buffer frames queued.
const sharedBacklog = 16

func (o *Options) defaults() {
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 50 * time.Millisecond
	}
	if o.StatsInterval <= 0 {
		o.StatsInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

var (
	published = metrics.Events.WithLabelValues("published")
	delivered = metrics.Events.WithLabelValues("delivered")
	dropped   = metrics.Events.WithLabelValues("dropped")
)

// Hub fans events out to the subscribers of this instance.
type Hub struct {
	opts  Options
	store *db.Store
	// ownStore is set when store is the hub's own pool (closed with the hub).
	ownStore bool
	stats    *statsCache

	mu     sync.RWMutex
	subs   map[*subscription]struct{}
	closed bool

	feed *feed
}

// subscription is one subscriber's queue.
type subscription struct {
	match  func(Event) bool
	events chan *Event
	// wakeOnly subscribers (stats) need to know that something changed, not what: a full
	// buffer already holds a wake-up, so the event is skipped rather than counted as overflow.
	wakeOnly bool
	overflow chan struct{}
	gone     chan struct{}
	once     sync.Once
	// relay is set when the subscription feeds a shared one (its subscribers are counted
	// there).
	relay *Relay
}

// subscribe adds a subscriber; nil when the hub is closed.
func (h *Hub) subscribe(ctx context.Context, match func(Event) bool, wakeOnly bool) *subscription {
	relay := relayFrom(ctx)
	size := h.opts.Buffer
	switch {
	case wakeOnly:
		size = 1
	case relay != nil:
		size *= sharedBacklog
	}
	s := &subscription{match: match, events: make(chan *Event, size), wakeOnly: wakeOnly,
		overflow: make(chan struct{}), gone: make(chan struct{}), relay: relay}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.subs[s] = struct{}{}
	return s
}

func (h *Hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// publish hands ev to every matching subscriber without ever waiting on one.
func (h *Hub) publish(event Event) {
	published.Inc()
	event.published = time.Now()
	ev := &event // one copy shared by every subscriber's buffer
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		if !s.match(event) {
			continue
		}
		select {
		case s.events <- ev:
		default:
			if !s.wakeOnly {
				dropped.Inc()
				s.once.Do(func() { close(s.overflow) })
			}
		}
	}
}

// Close ends every subscription and the feed.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for s := range h.subs {
		close(s.gone)
	}
	h.subs = nil
	h.mu.Unlock()
	stopped := h.feed == nil || h.feed.close()
	if h.ownStore {
		if stopped {
			h.store.Close()
		} else {
			go h.store.Close() // waits for the poll left behind
		}
	}
}

// Streams returns how many event streams the hub runs now: one per subscriber, or one per
// shared subscription however many subscribers share it.
func (h *Hub) Streams() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

// idle reports whether the hub has no subscription at all (shared ones and stats included).
func (h *Hub) idle() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs) == 0
}

// Subscribers returns how many subscriptions the hub serves now, counting each subscriber
// of a shared subscription.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for s := range h.subs {
		if s.relay != nil {
			n += int(s.relay.members.Load())
		} else {
			n++
		}
	}
	return n
}
