package live

import (
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"

	"tracetrack/db"
)

// SessionsApplicationName names the sessions LISTEN connection in pg_stat_activity.
const SessionsApplicationName = "tracetrack_sessions"

// SessionHandler holds or caches sessions and re-reads them when they change.
type SessionHandler interface {
	// SessionsChanged says the sessions of these users changed (the change has committed).
	SessionsChanged(userIDs []int64)
	// SessionsResync says changes may have been missed (the LISTEN connection was lost and is
	// back): re-read every session held.
	SessionsResync()
}

// SessionWatcher turns the NOTIFYs of migration 00011 (channel db.SessionsChannel) into
// calls of its handlers. It has a LISTEN connection of its own, apart from the hub's, so a
// session change never waits behind a burst of scans: the handlers hear of it within
// milliseconds of the commit, on every instance.
type SessionWatcher struct {
	pq       *pq.Listener
	handlers []SessionHandler
	logger   *slog.Logger
	stop     chan struct{}
	stopped  chan struct{}
	once     sync.Once
}

// WatchSessions opens the LISTEN connection and waits up to ready for it, so that what
// commits after it returns is heard; past that it goes on connecting in the background (and
// the handlers resync once it is up).
func WatchSessions(databaseURL string, logger *slog.Logger, ready time.Duration, handlers ...SessionHandler) *SessionWatcher {
	w := &SessionWatcher{handlers: handlers, logger: logger, stop: make(chan struct{}), stopped: make(chan struct{})}
	w.pq = pq.NewListener(withApplicationName(databaseURL, SessionsApplicationName),
		100*time.Millisecond, 5*time.Second, w.onEvent)
	connected := make(chan struct{})
	go w.run(connected)
	select {
	case <-connected:
	case <-time.After(ready):
		logger.Warn("live: sessions LISTEN connection not up yet; open websockets are re-checked when it is", "waited", ready)
	}
	return w
}

func (w *SessionWatcher) onEvent(ev pq.ListenerEventType, err error) {
	if ev == pq.ListenerEventDisconnected {
		w.logger.Warn("live: sessions LISTEN connection lost; reconnecting", "err", err)
	}
}

// Close ends the LISTEN connection; calls after the first do nothing.
func (w *SessionWatcher) Close() {
	w.once.Do(func() {
		close(w.stop)
		_ = w.pq.Close()
		<-w.stopped
	})
}

func (w *SessionWatcher) run(connected chan struct{}) {
	defer close(w.stopped)
	if err := w.pq.Listen(db.SessionsChannel); err != nil {
		return // closed before it ever connected
	}
	close(connected)
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-w.stop:
			return
		case n, open := <-w.pq.Notify:
			if !open {
				return // closed
			}
			if n == nil { // reconnected: what changed meanwhile went unheard
				w.resync()
				continue
			}
			if ids, resync := w.drain(n); resync {
				w.resync()
			} else {
				w.changed(ids)
			}
		case <-ping.C:
			go func() { _ = w.pq.Ping() }()
		}
	}
}

// drain returns the user ids of n and of every notification already queued behind it. A
// reconnection among them, or a payload that is not a user id, asks for a resync instead.
func (w *SessionWatcher) drain(n *pq.Notification) (ids []int64, resync bool) {
	seen := make(map[int64]bool)
	for {
		id, err := strconv.ParseInt(n.Extra, 10, 64)
		switch {
		case err != nil:
			w.logger.Error("live: sessions notification is not a user id; re-reading every session", "payload", n.Extra)
			resync = true
		case !seen[id]:
			seen[id] = true
			ids = append(ids, id)
		}
		select {
		case n = <-w.pq.Notify:
			if n == nil {
				return nil, true
			}
		default:
			return ids, resync
		}
	}
}

func (w *SessionWatcher) changed(ids []int64) {
	for _, h := range w.handlers {
		h.SessionsChanged(ids)
	}
}

func (w *SessionWatcher) resync() {
	for _, h := range w.handlers {
		h.SessionsResync()
	}
}
