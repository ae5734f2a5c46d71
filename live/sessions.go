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
	// SessionsResync says notifications are heard (first, or again after SessionsUnheard):
	// changes may have been missed before, so re-read (or forget) every session held.
	SessionsResync()
	// SessionsUnheard says changes may go unheard from now until the next SessionsResync:
	// the LISTEN connection is lost or does not answer its heartbeat.
	SessionsUnheard()
}

// How often the sessions LISTEN connection proves it is alive, and how long it may take: a
// connection that does not answer within heartbeatTimeout counts as lost (SessionsUnheard)
// even before TCP notices, so a cache of sessions is never trusted much longer than a
// second past the last sign that notifications still arrive.
const (
	heartbeatEvery   = 500 * time.Millisecond
	heartbeatTimeout = time.Second
)

// SessionWatcher turns the NOTIFYs of migrations 00011 and 00019 (channel db.SessionsChannel)
// into calls of its handlers, in order. It has a LISTEN connection of its own, apart from the
// hub's, so a session change never waits behind a burst of scans: the handlers hear of it
// within milliseconds of the commit, on every instance. It tells them, too, when
// notifications may go unheard (the connection is lost or stops answering its heartbeat) and
// when they are heard again.
type SessionWatcher struct {
	pq       *pq.Listener
	handlers []SessionHandler
	logger   *slog.Logger
	stop     chan struct{}
	stopped  sync.WaitGroup
	once     sync.Once

	// mu orders the SessionsUnheard and SessionsResync calls: heard is connected && answering,
	// as the handlers were last told.
	mu                          sync.Mutex
	connected, answering, heard bool
}

// WatchSessions opens the LISTEN connection and waits up to ready for it, so that what
// commits after it returns is heard; past that it goes on connecting in the background (and
// the handlers resync once it is up).
func WatchSessions(databaseURL string, logger *slog.Logger, ready time.Duration, handlers ...SessionHandler) *SessionWatcher {
	w := &SessionWatcher{handlers: handlers, logger: logger, stop: make(chan struct{}), answering: true}
	w.pq = pq.NewListener(withApplicationName(databaseURL, SessionsApplicationName),
		100*time.Millisecond, 5*time.Second, w.onEvent)
	connected := make(chan struct{})
	w.stopped.Add(2)
	go w.run(connected)
	go w.heartbeat()
	select {
	case <-connected:
	case <-time.After(ready):
		logger.Warn("live: sessions LISTEN connection not up yet; sessions are read from the database until it is", "waited", ready)
	}
	return w
}

// onEvent runs on lib/pq's connection goroutine, before it reconnects: the handlers hear
// SessionsUnheard before the reconnection's SessionsResync.
func (w *SessionWatcher) onEvent(ev pq.ListenerEventType, err error) {
	if ev == pq.ListenerEventDisconnected {
		w.logger.Warn("live: sessions LISTEN connection lost; reconnecting", "err", err)
		w.setConnected(false)
	}
}

func (w *SessionWatcher) setConnected(connected bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.connected = connected
	w.tell()
}

func (w *SessionWatcher) setAnswering(answering bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answering = answering
	w.tell()
}

// tell calls the handlers when heard changes; w.mu is held.
func (w *SessionWatcher) tell() {
	heard := w.connected && w.answering
	if heard == w.heard {
		return
	}
	w.heard = heard
	if heard {
		w.logger.Info("live: sessions notifications are heard; the token cache is in use")
	} else {
		w.logger.Warn("live: sessions notifications may go unheard (LISTEN connection lost or not answering its heartbeat); sessions are read from the database until it is back",
			"connected", w.connected, "answering", w.answering)
	}
	for _, h := range w.handlers {
		if heard {
			h.SessionsResync()
		} else {
			h.SessionsUnheard()
		}
	}
}

// Close ends the LISTEN connection; calls after the first do nothing. lib/pq's Close waits
// for a ping in flight, which a silent network holds forever: Close waits for it a while,
// then leaves it behind.
func (w *SessionWatcher) Close() {
	w.once.Do(func() {
		close(w.stop)
		closed := make(chan struct{})
		go func() {
			_ = w.pq.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(2 * heartbeatTimeout):
			w.logger.Warn("live: sessions LISTEN connection does not close; leaving it")
		}
		w.stopped.Wait()
	})
}

func (w *SessionWatcher) run(connected chan struct{}) {
	defer w.stopped.Done()
	if err := w.pq.Listen(db.SessionsChannel); err != nil {
		return // closed before it ever connected
	}
	w.setConnected(true)
	close(connected)
	for {
		select {
		case <-w.stop:
			return
		case n, open := <-w.pq.Notify:
			if !open {
				return // closed
			}
			if n == nil { // reconnected: what changed meanwhile went unheard
				w.setConnected(true)
				continue
			}
			ids, reconnected, malformed := w.drain(n)
			w.changed(ids)
			if reconnected {
				w.setConnected(true)
			}
			if malformed {
				w.resync()
			}
		}
	}
}

// heartbeat pings the LISTEN connection every heartbeatEvery, one ping at a time: a ping
// that fails or takes longer than heartbeatTimeout makes the watcher unheard until one
// succeeds again.
func (w *SessionWatcher) heartbeat() {
	defer w.stopped.Done()
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		answer := make(chan error, 1)
		go func() { answer <- w.pq.Ping() }()
		select {
		case err := <-answer:
			w.setAnswering(err == nil)
			continue
		case <-time.After(heartbeatTimeout):
			w.setAnswering(false)
		case <-w.stop:
			return
		}
		select {
		case err := <-answer:
			w.setAnswering(err == nil)
		case <-w.stop:
			return
		}
	}
}

// drain returns the user ids of n and of every notification already queued behind it,
// whether a reconnection is among them, and whether a payload is not a user id.
func (w *SessionWatcher) drain(n *pq.Notification) (ids []int64, reconnected, malformed bool) {
	seen := make(map[int64]bool)
	for {
		if n == nil {
			reconnected = true
		} else if id, err := strconv.ParseInt(n.Extra, 10, 64); err != nil {
			w.logger.Error("live: sessions notification is not a user id; re-reading every session", "payload", n.Extra)
			malformed = true
		} else if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		var open bool
		select {
		case n, open = <-w.pq.Notify:
			if !open {
				return ids, reconnected, malformed
			}
		default:
			return ids, reconnected, malformed
		}
	}
}

func (w *SessionWatcher) changed(ids []int64) {
	if len(ids) == 0 {
		return
	}
	for _, h := range w.handlers {
		h.SessionsChanged(ids)
	}
}

// resync asks the handlers to re-read every session (a notification could not be read).
func (w *SessionWatcher) resync() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.heard {
		return // SessionsResync follows when heard again
	}
	for _, h := range w.handlers {
		h.SessionsResync()
	}
}
