package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/live"
)

// Websocket close codes beyond RFC 6455, in the 4000-4999 range applications own.
const (
	closeUnauthorized = 4401
	closeForbidden    = 4403
	closeTooMany      = 4429
	closeGoingAway    = 1001
)

// DefaultMaxSubscriptions is WS_MAX_SUBSCRIPTIONS when unset: a dashboard runs a handful.
const DefaultMaxSubscriptions = 20

// DefaultMaxSocketsPerUser is WS_MAX_PER_USER when unset: a person runs a few tabs and a
// dashboard, each with one socket; one token opening thousands held gigabytes of memory.
const DefaultMaxSocketsPerUser = 10

// WebsocketOptions configure live subscriptions.
type WebsocketOptions struct {
	// AllowedOrigins are browser origins (scheme://host[:port]) that may open a websocket
	// besides the server's own; "*" allows any. Requests without Origin (not from a browser)
	// are always allowed.
	AllowedOrigins []string
	// PingInterval is how often the server pings; a peer silent for two is cut (default 10s).
	PingInterval time.Duration
	// RecheckInterval is how often open sockets re-check their session (default 30s): the
	// net under the session notifications, and what closes sockets whose token expired.
	RecheckInterval time.Duration
	// MaxSubscriptions is the most subscriptions one socket may run at once (default 20).
	MaxSubscriptions int
	// MaxPerUser is the most sockets one user may hold open at once on this instance
	// (default 10); the next connection_init is closed with 4429.
	MaxPerUser int
	// ReadLimit is the largest message a client may send (default 64 KiB).
	ReadLimit int64
	// InitTimeout is how long a socket may take to send connection_init (default 10s);
	// then it closes 4408.
	InitTimeout time.Duration
	// FlushDelay is the shortest time between two writes of a socket's live events, so that
	// several go out in one write (an event waits for the next one at most 3 times this): the
	// delay when the server delivers 20,000 live frames a second or more, less in proportion
	// below (flushPacer, pacing). Default DefaultFlushDelay; negative: none.
	FlushDelay time.Duration
}

// DefaultFlushDelay is WS_FLUSH_DELAY when unset: a dashboard cannot tell 50 ms, and a socket
// receiving 100 events a second on a busy server then writes five at a time.
const DefaultFlushDelay = 50 * time.Millisecond

func (o *WebsocketOptions) defaults() {
	if o.PingInterval <= 0 {
		o.PingInterval = 10 * time.Second
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = 30 * time.Second
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if o.MaxPerUser <= 0 {
		o.MaxPerUser = DefaultMaxSocketsPerUser
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = 10 * time.Second
	}
	if o.FlushDelay == 0 {
		o.FlushDelay = DefaultFlushDelay
	}
}

// startLive starts the event hub, whose statsUpdated streams compute stats as the stats
// query does, and hands it to the resolvers; and the session watcher, through which the
// guard closes open sockets whose user's rights changed (on any instance).
func (a *App) startLive() {
	opts := a.opts.Live
	if opts.BusinessTimeZone == nil {
		opts.BusinessTimeZone, opts.Now = a.opts.Resolvers.BusinessTimeZone, a.opts.Resolvers.Now
	}
	if opts.Logger == nil {
		opts.Logger = a.opts.Logger
	}
	a.hub = live.Start(a.opts.Store, opts, 10*time.Second)
	a.resolver.Live = a.hub
	a.sessionWatch = live.WatchSessions(opts.DatabaseURL, opts.Logger, 10*time.Second, a.tokens, a.guard)
	a.seriesWatch = live.WatchLabelSeries(opts.DatabaseURL, opts.Logger, 10*time.Second, a.opts.Store)
	go a.recheckSessions()
}

// Shutdown closes every websocket with 1001 and a reason, then the session watcher and the
// event hub. Call it after http.Server.Shutdown, which does not wait for hijacked
// connections such as websockets.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.stop) })
	err := a.websockets.closeAll(ctx, closeGoingAway, "server shutting down; reconnect (resume scanAdded with after)")
	if a.sessionWatch != nil {
		a.sessionWatch.Close()
	}
	if a.seriesWatch != nil {
		a.seriesWatch.Close()
	}
	if a.hub != nil {
		a.hub.Close()
	}
	a.imports.stop()
	return err
}

// wsSlot carries a websocket from the adapter's Accept to connection_init, which runs with the
// same request context, so the socket learns whose session it carries.
type wsSlot struct{ conn *wsConn }

type wsSlotKey struct{}

func slotFrom(ctx context.Context) *wsSlot {
	s, _ := ctx.Value(wsSlotKey{}).(*wsSlot)
	return s
}

// checkWebsocket refuses websocket upgrades from foreign browser origins and gives the others
// a slot for their socket.
func (a *App) checkWebsocket(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !originAllowed(r, a.opts.Websocket.AllowedOrigins) {
			writeGraphQLError(w, r, a.opts.Logger, apperr.New(apperr.Forbidden,
				"websocket origin %s is not allowed; add it to ALLOWED_ORIGINS", r.Header.Get("Origin")))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), wsSlotKey{}, &wsSlot{})))
	})
}

// originAllowed: no Origin (not a browser), the server's own origin, or a listed one.
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

// websocketInit authenticates a websocket from its connection_init payload:
// {"Authorization": "Bearer <token>"} or {"authToken": "<token>"}. A missing or bad token
// closes the socket with 4403 and the reason. The connection_ack carries no payload: echoing
// the init payload would send the bearer token back.
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token := bearerToken(payload.Authorization())
	if token == "" {
		token, _ = payload["authToken"].(string)
	}
	changes := a.guard.changes.Load()
	authed, err := a.sessions.resolve(ctx, token)
	if err == nil && auth.UserFrom(authed) == nil {
		err = apperr.New(apperr.Unauthenticated, "send a token in connection_init: {\"Authorization\": \"Bearer <token>\"}")
	}
	if err != nil {
		public := apperr.Present(ctx, a.opts.Logger, err)
		ctx = transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, public.Message), closeForbidden)
		return ctx, nil, errors.New(public.Message)
	}
	if slot := slotFrom(authed); slot != nil && slot.conn != nil {
		max := a.opts.Websocket.MaxPerUser
		if !a.websockets.hold(slot.conn, auth.SessionFrom(authed), max) {
			message := fmt.Sprintf("you have %d websockets open, the most one user may (WS_MAX_PER_USER); close one, or share one socket between subscriptions", max)
			ctx = transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, message), closeTooMany)
			return ctx, nil, errors.New(message)
		}
		if a.guard.changes.Load() != changes {
			// A session change was heard between reading this session and holding it: the
			// guard may have looked at this socket before it held one, so look again.
			go a.guard.recheckLogged([]*wsConn{slot.conn})
		}
	}
	return authed, nil, nil
}

// recheckSessions re-reads every open socket's session each RecheckInterval: tokens expire
// without a notification, and a notification lost with its connection is caught here too.
func (a *App) recheckSessions() {
	ticker := time.NewTicker(a.opts.Websocket.RecheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-ticker.C:
			a.guard.recheckLogged(a.websockets.list())
		}
	}
}

// TokenCache returns the token cache (tests count its misses).
func (a *App) TokenCache() *auth.TokenCache { return a.tokens }

// SocketsOfUser returns how many open websockets hold a session of the user, as the
// WS_MAX_PER_USER cap counts them (tests wait on it).
func (a *App) SocketsOfUser(userID int64) int { return a.websockets.heldBy(userID) }

// Hub returns the event hub (tests wait on its subscriber count).
func (a *App) Hub() *live.Hub { return a.hub }
