package app

import (
	"net/http"
	"strconv"
	"time"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// corsMaxAge is how long a browser may cache a preflight answer.
const corsMaxAge = 10 * time.Minute

// withCORS lets the browser origins of ALLOWED_ORIGINS (the same list and the same test as
// websockets: originAllowed) call the HTTP API with a bearer token. Other origins get no CORS
// headers, so their browsers refuse the response, and their preflights are answered 403.
// Requests without Origin (not from a browser) pass through untouched; the server's own
// origin counts as allowed, as for websockets.
func (a *App) withCORS(next http.Handler) http.Handler {
	allowed := a.opts.Websocket.AllowedOrigins
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || isWebsocket(r) {
			next.ServeHTTP(w, r) // websockets: checkWebsocket decides
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !originAllowed(r, allowed) {
			if preflight {
				writeGraphQLError(w, r, a.opts.Logger, apperr.New(apperr.Forbidden,
					"origin %s may not call this API; add it to ALLOWED_ORIGINS", scalar.Quote(origin)))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Content-Disposition, Retry-After, X-Request-Id")
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(corsMaxAge.Seconds())))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
