package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"tracetrack/auth"
	"tracetrack/metrics"
)

// The gorilla/websocket adapter of gqlgen's websocket transport. gqlgen speaks the GraphQL
// protocols (graphql-transport-ws and legacy graphql-ws) over it; this file owns the socket:
// read limit and deadlines, write deadlines, websocket ping frames for the legacy protocol
// (which has no pong message of its own), and closing with a code and reason from outside the
// transport (token revoked, server shutting down).

const (
	writeTimeout = 10 * time.Second
	// closeGrace is how long a closing socket waits for the peer's close frame.
	closeGrace = 2 * time.Second
	// maxCloseReason is the room for a reason in a close frame (125 bytes less the code).
	maxCloseReason = 123
)

var writeBuffers = &sync.Pool{}

// gorillaWebsocket accepts websockets for the transport and registers them in conns.
type gorillaWebsocket struct {
	conns        *websockets
	pingInterval time.Duration
	initTimeout  time.Duration
}

var _ transport.WebsocketImplementation = gorillaWebsocket{}

func (g gorillaWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	upgrader := websocket.Upgrader{
		Subprotocols: opts.Subprotocols,
		// Most sockets are idle between events: sharing write buffers saves 4 KiB per socket.
		WriteBufferPool: writeBuffers,
		// websockets.middleware checked the origin before the request reached GraphQL.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	hijack := &coalescingHijacker{ResponseWriter: w}
	conn, err := upgrader.Upgrade(hijack, r, opts.ResponseHeader)
	if err != nil {
		return nil, err
	}
	c := &wsConn{conn: conn, raw: hijack.conn, done: make(chan struct{}), conns: g.conns}
	c.out = newOutbox(hijack.conn, c.writeLoop)
	if slot := slotFrom(r.Context()); slot != nil {
		slot.conn = c
	}
	g.conns.add(c)
	if unspoken(r, conn.Subprotocol()) {
		// gqlgen would serve the socket as legacy graphql-ws, which the client did not ask for;
		// graphql-ws servers close such a socket 4406 and so does this one.
		c.closeWith(closeSubprotocol, "Subprotocol not acceptable: use graphql-transport-ws or graphql-ws")
		return c, nil
	}
	c.awaitInit(g.initTimeout)
	if c.Subprotocol() != "graphql-transport-ws" {
		c.pingFrames(g.pingInterval)
	}
	return c, nil
}

// unspoken reports a client that offered subprotocols none of which was chosen. A client
// offering none is served the legacy protocol, as gqlgen has always done.
func unspoken(r *http.Request, chosen string) bool {
	return chosen == "" && len(websocket.Subprotocols(r)) > 0
}

// wsConn is one websocket. Every message to the client goes through its outbox, which a
// writer goroutine drains while something is queued (wswrite.go): gqlgen's messages, the frames of shared
// subscriptions and the close frame, in the order they were queued. Ping frames use
// WriteControl, which gorilla allows concurrently.
type wsConn struct {
	conn  *websocket.Conn
	raw   *coalescingConn
	conns *websockets
	out   outbox
	done  chan struct{}
	once  sync.Once
	// session is the signed-in session, set by connection_init; nil before.
	mu      sync.Mutex
	session *auth.Session
	closing bool
	// subscriptions counts the subscriptions running now (subscriptionCap).
	subscriptions int
	// initialised, initTimer and operations keep the order of the protocol (wsprotocol.go):
	// connection_init seen, the timer that waits for it, the ids of running operations.
	initialised bool
	initTimer   *time.Timer
	operations  map[string]struct{}
}

var (
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
)

func (c *wsConn) NextReader() (int, io.Reader, error) {
	for {
		kind, r, err := c.conn.NextReader()
		if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived) {
			return kind, nil, transport.ErrWebsocketClosed
		}
		if err != nil {
			return kind, r, err
		}
		msg, answered, err := c.screen(r)
		if !answered {
			return kind, msg, err
		}
	}
}

// WriteJSON queues a message of gqlgen's transport. The transport waits here while the
// socket is far behind, so a subscription executed for this subscriber alone falls behind in
// its own buffer, and is cut there, not in this queue.
func (c *wsConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.ended(v, data)
	return c.out.push(outgoing{data: data}, true, c.done)
}

// WriteClose queues the transport's close frame unless closeWith queued one already.
func (c *wsConn) WriteClose(code int, reason string) error {
	c.mu.Lock()
	closing := c.closing
	c.closing = true
	c.mu.Unlock()
	if closing {
		return nil
	}
	return c.queueClose(code, reason)
}

func (c *wsConn) queueClose(code int, reason string) error {
	if len(reason) > maxCloseReason {
		reason = reason[:maxCloseReason]
	}
	return c.out.push(outgoing{data: websocket.FormatCloseMessage(code, reason), close: true}, false, c.done)
}

// closeWith closes the socket from outside the transport with a code and a reason; the
// transport's read loop ends when the peer answers or after closeGrace.
func (c *wsConn) closeWith(code int, reason string) {
	c.mu.Lock()
	closing := c.closing
	c.closing = true
	c.mu.Unlock()
	if closing {
		return
	}
	if c.queueClose(code, reason) != nil {
		c.cut()
		return
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// Close (the transport's, when it is done with the socket) lets the writer send what is
// queued, then closes the connection.
func (c *wsConn) Close() error {
	c.once.Do(func() {
		if c.initTimer != nil {
			c.initTimer.Stop()
		}
		close(c.done)
		c.conns.remove(c)
	})
	c.out.shut()
	return nil
}

// cut closes the connection at once, dropping what is queued.
func (c *wsConn) cut() {
	c.out.shut()
	_ = c.conn.Close()
}

func (c *wsConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *wsConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

func (c *wsConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// pingFrames keeps a legacy graphql-ws socket honest: a ping frame every interval, and a peer
// that has not answered one within two intervals is cut (its read times out).
func (c *wsConn) pingFrames(interval time.Duration) {
	if interval <= 0 {
		return
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(2 * interval))
	c.conn.SetPongHandler(func(string) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closing {
			return nil
		}
		return c.conn.SetReadDeadline(time.Now().Add(2 * interval))
	})
	go func() {
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-ticker.C:
				_ = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout))
			}
		}
	}()
}

// websockets tracks the open sockets for token re-checks and shutdown.
type websockets struct {
	mu    sync.Mutex
	conns map[*wsConn]struct{}
	// held counts, by user id, the open sockets holding a session of the user (hold).
	held  map[int64]int
	empty chan struct{} // closed and replaced when the last socket goes
}

func newWebsockets() *websockets {
	return &websockets{conns: make(map[*wsConn]struct{}), held: make(map[int64]int), empty: make(chan struct{})}
}

func (ws *websockets) add(c *wsConn) {
	metrics.Websockets.Inc()
	ws.mu.Lock()
	ws.conns[c] = struct{}{}
	ws.mu.Unlock()
}

func (ws *websockets) remove(c *wsConn) {
	metrics.Websockets.Dec()
	ws.mu.Lock()
	if _, open := ws.conns[c]; open {
		if s := c.heldSession(); s != nil {
			ws.release(s.User.ID)
		}
	}
	delete(ws.conns, c)
	if len(ws.conns) == 0 {
		close(ws.empty)
		ws.empty = make(chan struct{})
	}
	ws.mu.Unlock()
}

// hold gives the socket its session unless the session's user holds max sockets already
// (counted under the registry's lock, so sockets initialised at once cannot overshoot). The
// count is kept per user rather than found by walking every socket on each connection_init.
func (ws *websockets) hold(c *wsConn, s *auth.Session, max int) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.held[s.User.ID] >= max {
		return false
	}
	c.mu.Lock()
	old := c.session
	c.session = s
	c.mu.Unlock()
	if _, open := ws.conns[c]; open { // a socket already removed is not counted
		if old != nil {
			ws.release(old.User.ID)
		}
		ws.held[s.User.ID]++
	}
	return true
}

// heldBy is how many open sockets hold a session of the user.
func (ws *websockets) heldBy(userID int64) int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.held[userID]
}

// release uncounts a socket of the user; ws.mu is held.
func (ws *websockets) release(userID int64) {
	if ws.held[userID]--; ws.held[userID] <= 0 {
		delete(ws.held, userID)
	}
}

func (ws *websockets) list() []*wsConn {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	out := make([]*wsConn, 0, len(ws.conns))
	for c := range ws.conns {
		out = append(out, c)
	}
	return out
}

// closeAll closes every socket with the code and reason and waits until they are gone or ctx
// ends; what is left then is cut.
func (ws *websockets) closeAll(ctx context.Context, code int, reason string) error {
	for {
		ws.mu.Lock()
		n, empty := len(ws.conns), ws.empty
		ws.mu.Unlock()
		if n == 0 {
			return nil
		}
		for _, c := range ws.list() {
			c.closeWith(code, reason)
		}
		select {
		case <-empty:
		case <-ctx.Done():
			for _, c := range ws.list() {
				_ = c.Close()
				c.cut()
			}
			return errors.New("app: websockets still open at the shutdown deadline were cut")
		}
	}
}
