// Command tracetrack serves the TraceTrack GraphQL API.
//
// Read it top to bottom: configuration, database (local, given, or a private cluster),
// migrations and first admin (openStore), HTTP handler, server, graceful shutdown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"tracetrack/app"
	"tracetrack/auth"
	"tracetrack/live"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(os.Stdout)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracetrack:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends or SIGTERM. The generated admin password goes to stdout, logs to
// stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	started := time.Now()
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	cfg.GC.apply()
	if cfg.BcryptCost < safeBcryptCost {
		logger.Warn("BCRYPT_COST is below 10: password hashes are cheap to guess (use it for tests only)", "cost", cfg.BcryptCost)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Bind before the (slow) database start: a taken port fails at once, and connections
	// that arrive meanwhile wait in the backlog until the handler serves them.
	bound, err := bind(cfg)
	if err != nil {
		return err
	}
	defer bound.close()

	databaseURL, stopDatabase, err := resolveDatabase(ctx, cfg, defaultDatabaseURL, logger)
	if err != nil {
		return err
	}
	defer stopDatabase()
	hasher := auth.NewHasher(cfg.BcryptCost, cfg.HashWorkers)
	store, err := openStore(ctx, cfg, databaseURL, hasher, logger, stdout)
	if err != nil {
		return err
	}
	defer store.Close()

	application := app.New(app.Options{
		Store:            store,
		Hasher:           hasher,
		Resolvers:        cfg.resolverConfig(),
		Introspection:    cfg.Introspection,
		DisableFastReads: !cfg.FastReads,
		Limits:           cfg.Limits,
		RateLimits:       cfg.RateLimits,
		RequestTimeout:   cfg.RequestTimeout,
		DebugSQLCount:    cfg.DebugSQLCount,
		TokenCacheSize:   cfg.tokenCacheSize(),
		Logger:           logger,
		Live:             live.Options{DatabaseURL: databaseURL},
		Websocket:        cfg.Websocket,
		Exports:          cfg.Exports,
		Imports:          cfg.Imports,
		EPCISURIBase:     cfg.EPCISURIBase,
	})

	return serve(ctx, cfg, application, bound, logger, "database", redactURL(databaseURL),
		"startup", time.Since(started).Round(time.Millisecond))
}

// listeners are the bound addresses: LISTEN_ADDR, and DEBUG_ADDR when set.
type listeners struct{ public, profiles net.Listener }

func bind(cfg config) (listeners, error) {
	public, err := listen(cfg.ListenAddr, "LISTEN_ADDR")
	if err != nil {
		return listeners{}, err
	}
	profiles, err := listenProfiles(cfg.DebugAddr)
	if err != nil {
		public.Close()
		return listeners{}, err
	}
	return listeners{public, profiles}, nil
}

func (l listeners) close() {
	l.public.Close()
	if l.profiles != nil {
		l.profiles.Close()
	}
}

// serve logs "listening" with the bound address (and logArgs), serves until ctx ends, then
// lets in-flight requests finish within SHUTDOWN_TIMEOUT.
func serve(ctx context.Context, cfg config, application *app.App, bound listeners, logger *slog.Logger, logArgs ...any) error {
	server := &http.Server{
		Handler:           application.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.LoginTimeout + 10*time.Second, // a queued login may take that long
		IdleTimeout:       120 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(bound.public) }()
	if bound.profiles != nil {
		go serveProfiles(bound.profiles, logger)
	}
	logger.Info("tracetrack listening", append([]any{"addr", bound.public.Addr().String()}, logArgs...)...)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve on %s: %w", bound.public.Addr(), err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests", "deadline", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Websockets are hijacked connections that http.Server.Shutdown does not wait for.
	return application.Shutdown(shutdownCtx)
}

// listen binds addr, or says which setting to change.
func listen(addr, name string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: %s is already in use by another program; stop it or choose another address with %s (-%s)",
			name, addr, name, setting{env: name}.flagName())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s: %w; choose another address with %s", name, addr, err, name)
	}
	return l, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(app.NewLogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(app.NewLogHandler(slog.NewTextHandler(w, opts)))
}
