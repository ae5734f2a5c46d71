package app

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

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
	a.mux.Handle("GET /assets/", countResponses("/assets", immutable(&gzipAssets{dist: dist, files: http.FileServerFS(dist)})))
	graphiql := servePage(dist, "graphiql.html")
	if !a.opts.Introspection {
		graphiql = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeGraphQLError(w, r, a.opts.Logger, apperr.New(apperr.NotFound,
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

// gzipAssets answers scripts and styles gzipped to clients that accept it (every browser):
// the station's JavaScript is a third of its size on the wire. Each file is compressed once,
// on first request, and kept; the embedded set is fixed and small (web/dist).
type gzipAssets struct {
	dist  fs.FS
	files http.Handler
	cache sync.Map // name -> []byte
}

func (g *gzipAssets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	ext := path.Ext(name)
	w.Header().Add("Vary", "Accept-Encoding")
	if (ext != ".js" && ext != ".css") || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		g.files.ServeHTTP(w, r)
		return
	}
	body, ok := g.compressed(name)
	if !ok {
		g.files.ServeHTTP(w, r) // missing: the file server's 404
		return
	}
	h := w.Header()
	h.Set("Content-Type", mime.TypeByExtension(ext))
	h.Set("Content-Encoding", "gzip")
	_, _ = w.Write(body)
}

func (g *gzipAssets) compressed(name string) ([]byte, bool) {
	if body, ok := g.cache.Load(name); ok {
		return body.([]byte), true
	}
	raw, err := fs.ReadFile(g.dist, name)
	if err != nil {
		return nil, false
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	g.cache.Store(name, buf.Bytes())
	return buf.Bytes(), true
}
