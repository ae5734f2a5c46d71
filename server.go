// Command tracetrack serves the TraceTrack GraphQL API.
//
// Read it top to bottom: configuration, database (local, given, or a private cluster),
// migrations and first admin (openStore), HTTP handler, server, graceful shutdown.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tracetrack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	started := time.Now()
	cfg, err := loadConfig(args, os.Getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	databaseURL, stopDatabase, err := resolveDatabase(ctx, cfg, defaultDatabaseURL, logger)
	if err != nil {
		return err
	}
	defer stopDatabase()
	hasher := auth.NewHasher(cfg.BcryptCost, cfg.HashWorkers)
	store, err := openStore(ctx, cfg, databaseURL, hasher, logger, os.Stdout)
	if err != nil {
		return err
	}
	defer store.Close()

	application := app.New(app.Options{
		Store:          store,
		Hasher:         hasher,
		Resolvers:      cfg.resolverConfig(),
		Introspection:  cfg.Introspection,
		Limits:         cfg.Limits,
		RateLimits:     cfg.RateLimits,
		RequestTimeout: cfg.RequestTimeout,
		DebugSQLCount:  cfg.DebugSQLCount,
		Logger:         logger,
		Live:           live.Options{DatabaseURL: databaseURL},
		Websocket:      cfg.Websocket,
		Exports:        cfg.Exports,
	})

	server := &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           application.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.LoginTimeout + 10*time.Second, // a queued login may take that long
		IdleTimeout:       120 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.ListenAndServe() }()
	if cfg.DebugAddr != "" {
		go serveProfiles(cfg.DebugAddr, logger)
	}
	logger.Info("tracetrack listening", "addr", cfg.ListenAddr, "database", redactURL(databaseURL),
		"startup", time.Since(started).Round(time.Millisecond))

	select {
	case err := <-serveErr:
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
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

func newLogger(cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(app.NewLogHandler(slog.NewJSONHandler(os.Stderr, opts)))
	}
	return slog.New(app.NewLogHandler(slog.NewTextHandler(os.Stderr, opts)))
}
