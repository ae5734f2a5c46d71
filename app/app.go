// Package app assembles the HTTP side of TraceTrack: the GraphQL handler with its transports,
// limits and extensions, the middleware, and the routes. server.go and the tests both build
// the server through New, so tests exercise exactly what production serves.
package app

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/export"
	"tracetrack/graph"
	"tracetrack/live"
	"tracetrack/loaders"
	"tracetrack/metrics"
	"tracetrack/resolvers"
)

// Options configure the HTTP side.
type Options struct {
	Store         *db.Store
	Hasher        *auth.Hasher
	Resolvers     resolvers.Config
	Introspection bool
	Limits        Limits
	RateLimits    RateLimits
	Loaders       loaders.Settings
	// RequestTimeout bounds an HTTP request, the wait for a database connection included, so
	// an overloaded database answers SERVICE_UNAVAILABLE quickly instead of queueing forever.
	RequestTimeout time.Duration
	// TokenCacheSize is the most sessions the token cache holds (0: auth.DefaultTokenCacheSize;
	// negative: no cache, every request reads its token).
	TokenCacheSize int
	// QueryCacheSize is the most document shapes (and texts) the query cache holds (0: 1,000;
	// negative: no cache, every request parses and validates its text), see documentCache.
	QueryCacheSize int
	// DebugSQLCount adds extensions.sqlStatements (statements run for the request) to responses.
	DebugSQLCount bool
	Logger        *slog.Logger
	// Live configures the event hub of subscriptions (Live.DatabaseURL: its own pool).
	Live      live.Options
	Websocket WebsocketOptions
	// Exports bound the CSV downloads (zero fields: export.DefaultLimits).
	Exports export.Limits
	// Imports bound the uploads of POST /import.
	Imports ImportOptions
	// EPCISURIBase is the base of the EPCIS export's identifiers (empty: export.DefaultEPCISURIBase).
	EPCISURIBase string
	// DisableFastReads turns the fast path of read queries off (fastreads.go): gqlgen executes
	// every operation. The differential tests compare the two executions.
	DisableFastReads bool
}

// App is the assembled server.
type App struct {
	opts       Options
	tokens     *auth.TokenCache
	sessions   sessions
	mux        *http.ServeMux
	hub        *live.Hub
	resolver   *resolvers.Resolver
	websockets *websockets
	// sessionWatch tells the token cache whose sessions changed, and the guard, which closes
	// open websockets whose user's rights changed.
	guard        *socketGuard
	sessionWatch *live.SessionWatcher
	// seriesWatch tells the store when a label series was added (on any instance).
	seriesWatch *live.LabelSeriesWatcher
	stop        chan struct{}
	stopOnce    sync.Once
	imports     *imports
	// fastReads executes the commonest read queries without gqlgen's field execution (nil
	// when Options.DisableFastReads).
	fastReads *fastReads
}

// New builds the routes: /graphql (POST, GET, websocket), /export/*.csv and *.xlsx, /export/epcis.jsonld,
// /import and /import/{id}/report.csv and .xlsx, /healthz,
// /readyz, /metrics, and the console (/, /assets/, /graphiql).
func New(opts Options) *App {
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	if opts.Loaders == (loaders.Settings{}) {
		opts.Loaders = loaders.DefaultSettings()
	}
	if opts.TokenCacheSize == 0 {
		opts.TokenCacheSize = auth.DefaultTokenCacheSize
	}
	opts.Websocket.defaults()
	a := &App{opts: opts, tokens: auth.NewTokenCache(opts.Store, opts.TokenCacheSize), mux: http.NewServeMux(),
		websockets: newWebsockets(), stop: make(chan struct{})}
	a.sessions = sessions{tokens: a.tokens, logger: opts.Logger}
	// this instance's own writes reach its cache before they are acknowledged
	opts.Store.OnSessionsChanged(a.tokens.SessionsChanged)
	a.guard = &socketGuard{store: opts.Store, sockets: a.websockets, logger: opts.Logger, stop: a.stop}
	a.resolver = &resolvers.Resolver{Store: opts.Store, Hasher: opts.Hasher, UnknownUsers: auth.NewUnknownUsers(),
		Config: opts.Resolvers}
	a.startLive()
	limiter := newRateLimiter(opts.RateLimits)
	var graphQL http.Handler = withTimeout(opts.RequestTimeout,
		checkBody(opts.Limits.MaxBodyBytes, a.checkWebsocket(a.sessions.middleware(limiter, limiter.middleware(a.graphQL(limiter))))))
	if opts.DebugSQLCount {
		graphQL = countRequestStatements(graphQL)
	}
	a.mux.Handle("/graphql", countResponses("/graphql", graphQL))
	exports := export.New(export.Handler{Store: opts.Store, Weights: opts.Resolvers.Weights(),
		EPCIS: export.EPCIS{URIBase: opts.EPCISURIBase, Zone: opts.Resolvers.BusinessTimeZone}}, opts.Exports)
	for _, format := range export.Formats {
		for name, serve := range map[string]func(export.Format) http.HandlerFunc{
			"bills": exports.Bills, "bags": exports.Bags, "scans": exports.Scans} {
			path := "/export/" + name + "." + string(format)
			a.mux.Handle("GET "+path, countResponses(path, a.sessions.middleware(limiter, limiter.middleware(serve(format)))))
		}
	}
	a.imports = newImports(opts.Store, opts.Imports, opts.Resolvers.ChildrenPerParent, opts.Logger)
	a.routeImports(limiter, exports)
	const epcisPath = "/export/epcis.jsonld"
	a.mux.Handle("GET "+epcisPath, countResponses(epcisPath, a.sessions.middleware(limiter, limiter.middleware(http.HandlerFunc(exports.EPCISDocument)))))
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.HandleFunc("GET /readyz", a.readyz)
	a.mux.Handle("GET /metrics", metrics.Handler())
	a.routeConsole()
	metrics.WatchPool(opts.Store.DB(), "tracetrack")
	return a
}

// Handler returns the root handler with the middleware every route shares.
func (a *App) Handler() http.Handler {
	return withRequestID(a.withCORS(a.mux))
}

func (a *App) graphQL(limiter *rateLimiter) http.Handler {
	config := graph.Config{
		Resolvers:  a.resolver,
		Directives: graph.DirectiveRoot{Auth: resolvers.AuthDirective},
		Complexity: complexity(),
	}
	schema := graph.NewExecutableSchema(config)
	srv := handler.New(schema)
	ws := a.opts.Websocket
	srv.AddTransport(transport.Websocket{
		Implementation: gorillaWebsocket{conns: a.websockets, pingInterval: ws.PingInterval, initTimeout: ws.InitTimeout},
		InitFunc:       a.websocketInit,
		// no InitTimeout: gqlgen's closes with 1002, wsConn.awaitInit with 4408 as the protocol says
		KeepAlivePingInterval: ws.PingInterval,
		PingPongInterval:      ws.PingInterval,
		PayloadReadLimit:      &ws.ReadLimit,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	var queries *documentCache // nil: every request parses and validates its text
	if a.opts.QueryCacheSize >= 0 {
		queries = newDocumentCache(cmp.Or(a.opts.QueryCacheSize, defaultQueryCacheSize))
		srv.SetQueryCache(queries)
	}
	srv.Use(persistedQueries{cache: newBoundedCache(1000, func(_, query string) string { return query })})
	srv.Use(refusedPayloads{})
	// after persisted queries (which fill in the text of a hash), before parsing and validation
	srv.Use(shapeLimit{limits: a.opts.Limits, cache: queries})
	srv.Use(operationsByTransport{})
	srv.Use(&exactEnumVariables{})
	if a.opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetParserTokenLimit(a.opts.Limits.MaxTokens)
	srv.Use(extension.FixedComplexityLimit(a.opts.Limits.MaxComplexity))
	srv.Use(subscriptionCap{max: ws.MaxSubscriptions, present: presentError(a.opts.Logger)})
	srv.Use(onePasswordCheck{})
	srv.Use(chargedWrites{limiter: limiter})
	if a.opts.DebugSQLCount {
		srv.AroundOperations(countStatements)
	}
	srv.AroundOperations(observe(a.opts.Logger))
	srv.AroundResponses(observeRefused(a.opts.Logger))
	srv.AroundResponses(boundRefusals)
	srv.AroundResponses(a.withLoaders)
	srv.Use(resolvers.LiveEndErrors{})
	srv.Use(newLiveMux(a.opts.Live.Buffer, ws.FlushDelay)) // the last interceptor of subscriptions: see wsmux.go
	if !a.opts.DisableFastReads {
		// after every check of the operation: it executes what it serves itself
		a.fastReads = newFastReads(config, schema.Schema(), a.loadersFor)
		srv.Use(a.fastReads)
	}
	srv.AroundRootFields(clearLoadersBeforeMutations)
	srv.SetErrorPresenter(presentError(a.opts.Logger))
	srv.SetRecoverFunc(recoverPanic(a.opts.Logger))
	return checkRequests(a.opts.Logger, srv)
}

// withTimeout bounds plain HTTP requests; websocket connections live on.
func withTimeout(timeout time.Duration, next http.Handler) http.Handler {
	if timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// withLoaders gives every response its own loaders for the caller's actor: one set per HTTP
// request, and one per event of a subscription (with the subscriber's actor as it is then),
// so a dashboard never sees data cached from an earlier event nor outside its scope.
func (a *App) withLoaders(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(a.loadersFor(ctx))
}

// loadersFor returns ctx with new loaders for its actor.
func (a *App) loadersFor(ctx context.Context) context.Context {
	return loaders.With(ctx, loaders.New(a.opts.Store, auth.ActorFrom(ctx), a.opts.Loaders))
}

// FastReads tells how many query operations the fast path of reads served and how many it
// left to gqlgen (both 0 when Options.DisableFastReads).
func (a *App) FastReads() (served, declined int64) {
	if a.fastReads == nil {
		return 0, 0
	}
	return a.fastReads.served.Load(), a.fastReads.declined.Load()
}

// clearLoadersBeforeMutations drops cached answers before each mutation field runs: the
// fields after it in the same request must see what it changed.
func clearLoadersBeforeMutations(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if graphql.GetOperationContext(ctx).Operation.Operation == ast.Mutation {
		loaders.For(ctx).ClearAll()
	}
	return next(ctx)
}

func (a *App) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is green when the database answers. The migrations need no check here: the server
// applies them before it serves (server.go), so a serving App has them.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.opts.Store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeGraphQLError answers a request refused before GraphQL (a bad token, a malformed
// body) in the GraphQL response shape, with the HTTP status of its code.
func writeGraphQLError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	public := apperr.Present(r.Context(), logger, err)
	if logger != nil {
		logRefusal(r.Context(), logger, string(public.Code), public.Message)
	}
	writeJSON(w, public.HTTPStatus(), map[string]any{"errors": []map[string]any{{
		"message":    public.Message,
		"extensions": public.ExtensionsWithCode(),
	}}})
}
