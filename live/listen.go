package live

import (
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
)

// How often a watcher's LISTEN connection proves it is alive, and how long it may take: a
// connection that does not answer within heartbeatTimeout counts as not answering even
// before TCP notices, so a cache kept fresh by notifications is never trusted much longer
// than a second past the last sign that they still arrive.
const (
	heartbeatEvery   = 500 * time.Millisecond
	heartbeatTimeout = time.Second
)

// closeWait bounds a watcher's Close: lib/pq's Listener.Close waits on the lock a Ping in
// flight holds, and a silent network (or a database gone during shutdown) holds it forever.
const closeWait = 2 * heartbeatTimeout

// listenConn is a LISTEN connection of its own on one channel, for a watcher of rare changes
// (sessions, label series), apart from the hub's so a change never waits behind a burst of
// scans. It connects, hands each notification and each reconnection to the watcher in
// order, pings the connection on a heartbeat, and closes within closeWait whatever the
// network does.
type listenConn struct {
	pq      *pq.Listener
	what    string // names the connection in logs: "sessions", "label series"
	logger  *slog.Logger
	hooks   listenHooks
	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

// listenHooks are what a watcher does with its connection's events; nil hooks are skipped.
type listenHooks struct {
	// up: the LISTEN is in place for the first time; what changed before went unheard.
	up func()
	// notified: a notification, or nil after a reconnection (what changed meanwhile went
	// unheard). It may read further notifications from notify.
	notified func(n *pq.Notification, notify <-chan *pq.Notification)
	// lost: the connection is lost; called on lib/pq's goroutine, before it reconnects.
	lost func()
	// answered: whether a heartbeat ping answered within heartbeatTimeout.
	answered func(bool)
	// meanwhile says what the watcher does until the connection is up (for the log).
	meanwhile string
}

// listen opens the LISTEN connection and waits up to ready for it, so that what commits after
// it returns is heard; past that it goes on connecting in the background (and hooks.up runs
// once it is up).
func listen(databaseURL, applicationName, channel, what string, logger *slog.Logger, ready time.Duration, hooks listenHooks) *listenConn {
	l := &listenConn{what: what, logger: logger, hooks: hooks, stop: make(chan struct{})}
	l.pq = pq.NewListener(withApplicationName(databaseURL, applicationName), 100*time.Millisecond, 5*time.Second, l.onEvent)
	connected := make(chan struct{})
	l.stopped.Add(2)
	go l.run(channel, connected)
	go l.heartbeat()
	select {
	case <-connected:
	case <-time.After(ready):
		logger.Warn("live: "+what+" LISTEN connection not up yet; "+hooks.meanwhile, "waited", ready)
	}
	return l
}

func (l *listenConn) onEvent(ev pq.ListenerEventType, err error) {
	if ev == pq.ListenerEventDisconnected {
		l.logger.Warn("live: "+l.what+" LISTEN connection lost; reconnecting", "err", err)
		if l.hooks.lost != nil {
			l.hooks.lost()
		}
	}
}

// close ends the LISTEN connection; calls after the first do nothing. It waits for lib/pq's
// Close and for the watcher's goroutines up to closeWait, then leaves them behind (they end
// when lib/pq lets go, and tell the watcher nothing more).
func (l *listenConn) close() {
	l.once.Do(func() {
		close(l.stop)
		done := make(chan struct{})
		go func() {
			_ = l.pq.Close()
			l.stopped.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(closeWait):
			l.logger.Warn("live: " + l.what + " LISTEN connection does not close; leaving it")
		}
	})
}

func (l *listenConn) stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *listenConn) run(channel string, connected chan struct{}) {
	defer l.stopped.Done()
	if err := l.pq.Listen(channel); err != nil || l.stopping() {
		return // closed before it ever connected
	}
	if l.hooks.up != nil {
		l.hooks.up()
	}
	close(connected)
	for {
		select {
		case <-l.stop:
			return
		case n, open := <-l.pq.Notify:
			if !open {
				return // closed
			}
			if l.hooks.notified != nil {
				l.hooks.notified(n, l.pq.Notify)
			}
		}
	}
}

// heartbeat pings the connection every heartbeatEvery, one ping at a time: a ping that fails
// or takes longer than heartbeatTimeout is told as not answered until one succeeds again.
func (l *listenConn) heartbeat() {
	defer l.stopped.Done()
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		answer := make(chan error, 1)
		go func() { answer <- l.pq.Ping() }()
		select {
		case err := <-answer:
			l.answered(err == nil)
			continue
		case <-time.After(heartbeatTimeout):
			l.answered(false)
		case <-l.stop:
			return
		}
		select {
		case err := <-answer:
			l.answered(err == nil)
		case <-l.stop:
			return
		}
	}
}

func (l *listenConn) answered(ok bool) {
	if l.hooks.answered != nil {
		l.hooks.answered(ok)
	}
}
