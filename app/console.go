package app

import (
	"io/fs"
	"net/http"
	"strings"

	"tracetrack/apperr"
	"tracetrack/web"
)

// contentSecurityPolicy allows only the server's own scripts, styles and sockets: the console
// fetches nothing from any other host. Inline styles are needed by GraphiQL's editor.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// routeConsole serves the embedded console: / (the app), /assets/* (content-hashed files,
// cached for a year) and /graphiql (only when introspection is on: without it GraphiQL has
// no schema to offer).
func (a *App) routeConsole() {
	dist, err := fs.Sub(web.Dist, "dist")
	if err != nil {
		panic(err) // the embed directive names dist; a build without it does not compile
	}
	a.mux.Handle("GET /{$}", countResponses("/", servePage(dist, "index.html")))
	a.mux.Handle("GET /assets/", countResponses("/assets", immutable(http.FileServerFS(dist))))
	graphiql := servePage(dist, "graphiql.html")
	if !a.opts.Introspection {
		graphiql = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusNotFound, errorBody(apperr.NotFound,
				"GraphiQL is off because introspection is off (INTROSPECTION=false)"))
		})
	}
	a.mux.Handle("GET /graphiql", countResponses("/graphiql", graphiql))
}

// servePage answers with one HTML page, revalidated on every load so a new release is picked
// up at once (the page names the hashed assets of its release).
func servePage(dist fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := fs.ReadFile(dist, name)
		if err != nil {
			http.Error(w, "the console was not built into this binary (run npm run build in web/)", http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		_, _ = w.Write(page)
	})
}

// immutable marks content-hashed assets as cacheable forever; a missing one is a plain 404.
func immutable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
