package live

import (
	"context"
	"net/url"
	"strings"
	"time"

	"tracetrack/db"
)

// ApplicationName names the hub's connections (the feed's polls, replays) in
// pg_stat_activity.
const ApplicationName = "tracetrack_live"

const (
	pageSize = 1000
	// ticksPerRead is how many ticks one read of the feed covers at most.
	ticksPerRead = 64
	// minPollGap spaces polls while changes keep coming (and polls woken by this instance's
	// own commits): under a write load the feed reads a few commits at a time, not one poll
	// (and one tick) per commit.
	minPollGap   = 15 * time.Millisecond
	pingInterval = 30 * time.Second
	readTimeout  = 30 * time.Second
)

// readConns is the size of the hub's own connection pool. Its reads (the feed, replays) then
// never queue behind request traffic for one of the shared pool's connections: under a
// 1,000-user load that queue held events back for tens of seconds.
const readConns = 3

// feed turns committed changes into published events without NOTIFY (migration 00015): it
// polls, and each poll takes a tick when something committed since the latest one, then
// publishes the batches of the ticks it has not read yet. Only its goroutine touches last
// and published.
type feed struct {
	hub *Hub
	// last is the latest tick whose batch is published (ID 0: the feed has not started).
	last db.Tick
	// published is the position of the latest event published: a read that failed half way
	// through a batch is read again and skips what was published already.
	published Position
	failing   bool

	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

// Start builds the hub and its feed. It waits up to ready for the feed's first tick, so that
// what commits after Start returns is published; past that it goes on trying in the
// background. The hub reads through a pool of its own, or through store when that pool
// cannot be opened now. Commits through store wake the feed at once.
func Start(store *db.Store, opts Options, ready time.Duration) *Hub {
	opts.defaults()
	if opts.Stats == nil {
		opts.Stats = storeStats(store, opts.BusinessTimeZone, opts.Now)
	}
	h := &Hub{opts: opts, store: store, subs: make(map[*subscription]struct{}),
		stats: newStatsCache(opts.Stats)}
	ctx, cancel := context.WithTimeout(context.Background(), ready)
	defer cancel()
	if own, err := db.Open(ctx, withApplicationName(opts.DatabaseURL, ApplicationName), readConns); err == nil {
		h.store, h.ownStore = own, true
	} else {
		opts.Logger.Warn("live: reading events through the shared pool", "err", err)
	}
	f := &feed{hub: h, wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	h.feed = f
	if err := f.poll(ctx); err != nil {
		opts.Logger.Warn("live: the feed is not reading yet; subscriptions start when it is", "err", err)
	}
	store.OnCommit(f.poke)
	go f.run()
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

// poke wakes the feed: this instance committed a write. It never waits.
func (f *feed) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// close stops the feed and reports whether it stopped within closeWait: a poll on a silent
// network outlives its context (lib/pq's cancel request goes the same silent way), and a
// shutdown must not wait for it.
func (f *feed) close() bool {
	close(f.stop)
	select {
	case <-f.stopped:
		return true
	case <-time.After(closeWait):
		f.hub.opts.Logger.Warn("live: the feed's poll does not end; leaving it")
		return false
	}
}

func (f *feed) run() {
	defer close(f.stopped)
	interval := f.hub.opts.PollInterval
	timer := time.NewTimer(interval)
	defer timer.Stop()
	var polled time.Time
	for {
		select {
		case <-f.stop:
			return
		case <-f.wake:
			if f.hub.idle() {
				// No subscriber: a poll would only take a tick to mark where the feed stands,
				// and each tick is a commit of its own (a WAL flush that the write path's
				// commits queue with), up to one per minPollGap under a write load. The
				// timer's poll marks it one interval later, as for commits through other
				// instances.
				continue
			}
			if wait := minPollGap - time.Since(polled); wait > 0 {
				select {
				case <-f.stop:
					return
				case <-time.After(wait):
				}
			}
		case <-timer.C:
		}
		polled = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		before := f.last.ID
		err := f.poll(ctx)
		cancel()
		f.report(err)
		// Polls start every interval; while changes keep coming, every minPollGap, so each
		// reads a few commits (a burst of events costs the subscribers' fan-out at once). With
		// no subscriber, every interval (see the wake above).
		next := interval
		if f.last.ID != before && !f.hub.idle() {
			next = minPollGap
		}
		timer.Reset(max(0, next-time.Since(polled)))
	}
}

// report logs when the feed starts failing and when it recovers, not every poll between.
func (f *feed) report(err error) {
	switch {
	case err != nil && !f.failing:
		f.hub.opts.Logger.Error("live: reading the feed failed; retrying (nothing is lost)", "err", err)
	case err == nil && f.failing:
		f.hub.opts.Logger.Info("live: the feed reads again")
	}
	f.failing = err != nil
}

// poll takes a tick (writing one only when something new committed) and publishes the
// batches up to it. When nothing changed that is one statement; when one tick of scans was
// taken, two. The first poll only marks where the feed starts.
func (f *feed) poll(ctx context.Context) error {
	latest, err := f.hub.store.LiveTick(ctx)
	if err != nil {
		return err
	}
	if f.last.ID == 0 {
		f.last = latest
		return nil
	}
	if latest.ID < f.last.ID { // the ticks went back (a restored database): start from here
		f.hub.opts.Logger.Warn("live: the feed's ticks went back; following the database from now", "was", f.last.ID, "now", latest.ID)
		f.last, f.published = latest, Position{}
		f.hub.publish(Event{Resync: true})
		return nil
	}
	if f.hub.idle() {
		// Nobody here to publish to: what committed up to the tick committed before any
		// subscription of this instance began, so none of them is owed it (a resumed one
		// replays from the database). Skipping the read saves the write path's database and
		// this server the scan log's every row when no screen is open.
		f.last = latest
		return nil
	}
	for f.last.ID < latest.ID {
		ticks := []db.Tick{latest} // the usual case: the one tick just taken
		if latest.ID != f.last.ID+1 {
			if ticks, err = f.hub.store.LiveTicksAfter(ctx, f.last.ID, ticksPerRead); err != nil {
				return err
			}
			if len(ticks) == 0 {
				return nil
			}
		}
		if err := f.hub.readBatches(ctx, everything, f.last, ticks, f.published, f.publish); err != nil {
			return err
		}
		f.last = ticks[len(ticks)-1]
	}
	return nil
}

func (f *feed) publish(ev Event) bool {
	f.hub.publish(ev)
	f.published = ev.Pos
	return true
}
