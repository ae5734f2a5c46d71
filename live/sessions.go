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

// SessionWatcher turns the NOTIFYs of migrations 00011 and 00019 (channel db.SessionsChannel)
// into calls of its handlers, in order. It has a LISTEN connection of its own, apart from the
// hub's, so a session change never waits behind a burst of scans: the handlers hear of it
// within milliseconds of the commit, on every instance. It tells them, too, when
// notifications may go unheard (the connection is lost or stops answering its heartbeat) and
// when they are heard again: a connection that does not answer its heartbeat within
// heartbeatTimeout counts as lost (SessionsUnheard) even before TCP notices.
type SessionWatcher struct {
	conn     *listenConn
	handlers []SessionHandler
	logger   *slog.Logger

	// mu orders the SessionsUnheard and SessionsResync calls: heard is connected && answering,
	// as the handlers were last told.
	mu                          sync.Mutex
	connected, answering, heard bool
}

// WatchSessions opens the LISTEN connection and waits up to ready for it, so that what
// commits after it returns is heard; past that it goes on connecting in the background (and
// the handlers resync once it is up).
func WatchSessions(databaseURL string, logger *slog.Logger, ready time.Duration, handlers ...SessionHandler) *SessionWatcher {
	w := &SessionWatcher{handlers: handlers, logger: logger, answering: true}
	w.conn = listen(databaseURL, SessionsApplicationName, db.SessionsChannel, "sessions", logger, ready, listenHooks{
		up:       func() { w.setConnected(true) },
		notified: w.notified,
		// on lib/pq's connection goroutine, before it reconnects: the handlers hear
		// SessionsUnheard before the reconnection's SessionsResync
		lost:      func() { w.setConnected(false) },
		answered:  w.setAnswering,
		meanwhile: "sessions are read from the database until it is",
	})
	return w
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

// Close ends the LISTEN connection within closeWait; calls after the first do nothing.
func (w *SessionWatcher) Close() { w.conn.close() }

// notified handles a notification, with every one queued behind it, or a reconnection (nil):
// what changed meanwhile went unheard.
func (w *SessionWatcher) notified(n *pq.Notification, notify <-chan *pq.Notification) {
	if n == nil {
		w.setConnected(true)
		return
	}
	ids, reconnected, malformed := w.drain(n, notify)
	w.changed(ids)
	if reconnected {
		w.setConnected(true)
	}
	if malformed {
		w.resync()
	}
}

// drain returns the user ids of n and of every notification already queued behind it,
// whether a reconnection is among them, and whether a payload is not a user id.
func (w *SessionWatcher) drain(n *pq.Notification, notify <-chan *pq.Notification) (ids []int64, reconnected, malformed bool) {
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
		case n, open = <-notify:
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
