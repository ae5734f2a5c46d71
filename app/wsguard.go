package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"tracetrack/auth"
	"tracetrack/db"
)

// socketGuard keeps the rights of every open websocket those its user has now. The sessions
// LISTEN connection (live.SessionWatcher) tells it whose sessions changed; it re-reads those
// sockets' sessions with one query and closes each socket whose session no longer stands as
// it was at connection_init: 4401 for an expired token, 4403 for anything else (token revoked
// by logout or a password change, user deactivated or deleted, role, area or password
// changed). A closed socket ends its subscriptions and operations with it; the client
// reconnects and gets the rights the user has now (or logs in again).
type socketGuard struct {
	store   *db.Store
	sockets *websockets
	logger  *slog.Logger
	stop    <-chan struct{}
	// changes counts the notifications heard, so a socket whose session was read while one
	// was being handled knows to look again (websocketInit).
	changes atomic.Uint64
}

// SessionsChanged re-checks the sockets of the users. The re-check runs on its own, so the
// watcher goes on to its next notification (and the token cache hears it) at once.
func (g *socketGuard) SessionsChanged(userIDs []int64) {
	g.changes.Add(1)
	users := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		users[id] = true
	}
	go g.recheckUntilDone(func() []*wsConn {
		var affected []*wsConn
		for _, c := range g.sockets.list() {
			if s := c.heldSession(); s != nil && users[s.User.ID] {
				affected = append(affected, c)
			}
		}
		return affected
	})
}

// SessionsResync re-checks every socket.
func (g *socketGuard) SessionsResync() {
	g.changes.Add(1)
	go g.recheckUntilDone(g.sockets.list)
}

// SessionsUnheard does nothing: open sockets keep their sessions until SessionsResync
// re-checks them all (and RecheckInterval goes on meanwhile).
func (g *socketGuard) SessionsUnheard() {}

// recheckUntilDone re-checks the sockets, trying again every second while the database
// fails (a connection just back may meet a database still starting): the rights must not
// wait for the next RecheckInterval. It gives up when the server stops.
func (g *socketGuard) recheckUntilDone(sockets func() []*wsConn) {
	for {
		err := g.recheck(sockets())
		if err == nil {
			return
		}
		g.logger.Warn("websocket session re-check failed; trying again in a second", "err", err)
		select {
		case <-g.stop:
			return
		case <-time.After(time.Second):
		}
	}
}

// recheckLogged is recheck whose failure is logged: the next notification, reconnection or
// RecheckInterval tries again.
func (g *socketGuard) recheckLogged(conns []*wsConn) {
	if err := g.recheck(conns); err != nil {
		g.logger.Warn("websocket session re-check failed; trying again on the next change or interval", "err", err)
	}
}

// recheck re-reads the sessions of the sockets with one query and closes the sockets whose
// session changed.
func (g *socketGuard) recheck(conns []*wsConn) error {
	byToken := make(map[int64][]*wsConn)
	held := make(map[*wsConn]*auth.Session)
	for _, c := range conns {
		if s := c.heldSession(); s != nil {
			byToken[s.TokenID] = append(byToken[s.TokenID], c)
			held[c] = s
		}
	}
	if len(byToken) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(byToken))
	for id := range byToken {
		ids = append(ids, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	states, err := g.store.SessionStates(ctx, ids)
	if err != nil {
		return err
	}
	for id, state := range states {
		for _, c := range byToken[id] {
			if code, reason := sessionVerdict(held[c], state); code != 0 {
				c.closeWith(code, reason)
			}
		}
	}
	return nil
}

// sessionVerdict says how a socket holding the session must close now that its token and
// user are as state says: a close code and reason, or 0 while the session stands.
func sessionVerdict(held *auth.Session, state db.SessionState) (int, string) {
	switch {
	case state.Token == db.TokenExpired:
		return closeUnauthorized, "your token expired; log in again"
	case state.Token != db.TokenLive || state.User == nil:
		return closeForbidden, "your token was revoked (logout or password change) or your account deactivated; log in again"
	case !sameRights(held.User, state.User):
		return closeForbidden, "your role, area or password changed; reconnect to go on with your rights as they are now"
	}
	return 0, ""
}

// sameRights: the user may do what they could when the session was read. The password hash
// counts because changePassword checks the current password against the session's.
func sameRights(was, now *db.User) bool {
	return was.Role == now.Role && was.PasswordHash == now.PasswordHash && sameArea(was.AreaID, now.AreaID)
}

func sameArea(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// heldSession returns the socket's session; nil before connection_init.
func (c *wsConn) heldSession() *auth.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}
