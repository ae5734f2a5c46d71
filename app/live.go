package app

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/live"
)

// Websocket close codes beyond RFC 6455, in the 4000-4999 range applications own.
const (
	closeUnauthorized = 4401
	closeForbidden    = 4403
	closeGoingAway    = 1001
)

// WebsocketOptions configure live subscriptions.
type WebsocketOptions struct {
	// AllowedOrigins are browser origins (scheme://host[:port]) that may open a websocket
	// besides the server's own; "*" allows any. Requests without Origin (not from a browser)
	// are always allowed.
	AllowedOrigins []string
	// PingInterval is how often the server pings; a peer silent for two is cut (default 10s).
	PingInterval time.Duration
	// RecheckInterval is how often open sockets re-check their token (default 30s).
	RecheckInterval time.Duration
	// ReadLimit is the largest message a client may send (default 64 KiB).
	ReadLimit int64
}

func (o *WebsocketOptions) defaults() {
	if o.PingInterval <= 0 {
		o.PingInterval = 10 * time.Second
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = 30 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
}

// startLive starts the event hub, whose statsUpdated streams compute stats as the stats
// query does, and hands it to the resolvers.
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
	go a.recheckTokens()
}

// Shutdown closes every websocket with 1001 and a reason, then the event hub. Call it after
// http.Server.Shutdown, which does not wait for hijacked connections such as websockets.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.stop) })
	err := a.websockets.closeAll(ctx, closeGoingAway, "server shutting down; reconnect (resume scanAdded with after)")
	if a.hub != nil {
		a.hub.Close()
	}
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
			writeJSON(w, http.StatusForbidden, errorBody(apperr.Forbidden,
				"websocket origin "+r.Header.Get("Origin")+" is not allowed; add it to ALLOWED_ORIGINS"))
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
// closes the socket with 4403 and the reason.
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token := bearerToken(payload.Authorization())
	if token == "" {
		token, _ = payload["authToken"].(string)
	}
	authed, err := a.sessions.resolve(ctx, token)
	if err == nil && auth.UserFrom(authed) == nil {
		err = apperr.New(apperr.Unauthenticated, "send a token in connection_init: {\"Authorization\": \"Bearer <token>\"}")
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.Internal {
			err = errors.New("the session could not be checked; try again")
		}
		ctx = transport.WithWebsocketCloseCode(transport.AppendCloseReason(ctx, err.Error()), closeForbidden)
		return ctx, nil, err
	}
	if slot := slotFrom(authed); slot != nil && slot.conn != nil {
		slot.conn.mu.Lock()
		slot.conn.session = auth.SessionFrom(authed)
		slot.conn.mu.Unlock()
	}
	return authed, &payload, nil
}

// recheckTokens closes sockets whose token was revoked (4403) or expired (4401) since they
// connected, every RecheckInterval, with one query for all of them.
func (a *App) recheckTokens() {
	ticker := time.NewTicker(a.opts.Websocket.RecheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-ticker.C:
			if err := a.recheckOnce(); err != nil {
				a.opts.Logger.Warn("websocket token re-check failed; trying again next interval", "err", err)
			}
		}
	}
}

func (a *App) recheckOnce() error {
	byToken := make(map[int64][]*wsConn)
	for _, c := range a.websockets.list() {
		c.mu.Lock()
		if c.session != nil {
			byToken[c.session.TokenID] = append(byToken[c.session.TokenID], c)
		}
		c.mu.Unlock()
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
	states, err := a.opts.Store.TokenStates(ctx, ids)
	if err != nil {
		return err
	}
	for id, state := range states {
		for _, c := range byToken[id] {
			switch state {
			case db.TokenExpired:
				c.closeWith(closeUnauthorized, "your token expired; log in again")
			case db.TokenRevoked:
				c.closeWith(closeForbidden, "your token was revoked or your account deactivated; log in again")
			}
		}
	}
	return nil
}

// Hub returns the event hub (tests wait on its subscriber count).
func (a *App) Hub() *live.Hub { return a.hub }
