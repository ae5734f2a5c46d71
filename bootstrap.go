package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/lib/pq"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/migrations"
	"tracetrack/pgboot"
)

// defaultDatabaseURL is the local PostgreSQL used when DATABASE_URL is not set.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/tracetrack?sslmode=disable"

// resolveDatabase returns the database URL to use and a function to call at shutdown. With no
// DATABASE_URL it uses the database tracetrack on the local PostgreSQL (localURL), created if
// missing; when no server there lets us in, it starts a private cluster (package pgboot).
func resolveDatabase(ctx context.Context, cfg config, localURL string, logger *slog.Logger) (string, func(), error) {
	noop := func() {}
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, noop, nil
	}
	err := createDatabaseIfMissing(ctx, localURL)
	if err == nil {
		return localURL, noop, nil
	}
	if !unusableServer(err) {
		return "", noop, fmt.Errorf("no DATABASE_URL set and the local PostgreSQL at %s failed: %w; fix it or set DATABASE_URL", redactURL(localURL), err)
	}
	logger.Info("no usable PostgreSQL at the default address; starting a private one",
		"tried", redactURL(localURL), "reason", err.Error(), "dir", cfg.EmbeddedPGDir)
	cluster, err := pgboot.Start(ctx, cfg.EmbeddedPGDir)
	if errors.Is(err, pgboot.ErrNotInstalled) {
		return "", noop, fmt.Errorf("no DATABASE_URL set, no PostgreSQL lets us in at %s, and %w "+
			"(looked on PATH and in /usr/lib/postgresql/*/bin). Install them (Debian/Ubuntu: apt-get install postgresql; "+
			"Fedora: dnf install postgresql-server; macOS: brew install postgresql) or set DATABASE_URL", redactURL(localURL), err)
	}
	if err != nil {
		return "", noop, err
	}
	stop := func() {
		if err := cluster.Stop(); err != nil {
			logger.Warn("could not stop the private PostgreSQL", "error", err)
		}
	}
	target := cluster.URL("tracetrack")
	if err := createDatabaseIfMissing(ctx, target); err != nil {
		stop()
		return "", noop, fmt.Errorf("private PostgreSQL in %s: %w", cfg.EmbeddedPGDir, err)
	}
	return target, stop, nil
}

// unusableServer reports errors that mean no PostgreSQL answers at the address, or it does
// but will not let this user in (a fresh Debian install asks for a password on TCP).
func unusableServer(err error) bool {
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code.Class() == "28" // invalid authorization
}

// createDatabaseIfMissing connects to the server's postgres database and creates the
// database named in target when it does not exist yet.
func createDatabaseIfMissing(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	name := u.Path[1:]
	admin := *u
	admin.Path = "/postgres"
	conn, err := sql.Open("postgres", admin.String())
	if err != nil {
		return err
	}
	defer conn.Close()
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // duplicate_database: a server starting beside us made it
		return nil
	}
	return err
}

// openStore connects to the database, applies the migrations and creates the first admin.
// Servers starting together on one empty database may all run it: the migrations take an
// advisory lock and the first admin is inserted at most once.
func openStore(ctx context.Context, cfg config, databaseURL string, hasher *auth.Hasher, logger *slog.Logger, out io.Writer) (*db.Store, error) {
	// migrations run without the statement timeout: building an index on a large table may
	// take longer than any request should
	if err := applyMigrations(ctx, databaseURL); err != nil {
		return nil, err
	}
	store, err := db.Open(ctx, withStatementTimeout(databaseURL, cfg.StatementTimeout), cfg.MaxDBConns)
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseReadURL != "" {
		if err := store.UseReplica(ctx, withStatementTimeout(cfg.DatabaseReadURL, cfg.StatementTimeout), cfg.MaxDBConns); err != nil {
			store.Close()
			return nil, err
		}
	}
	if err := ensureAdmin(ctx, store, hasher, cfg.AdminPassword, logger, out); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

func applyMigrations(ctx context.Context, databaseURL string) error {
	conn, err := sql.Open("postgres", databaseURL)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer conn.Close()
	return migrations.Apply(ctx, conn)
}

// withStatementTimeout sets PostgreSQL's statement_timeout for every connection of the URL
// (lib/pq sends unknown URL parameters as run-time settings), unless the URL sets one.
func withStatementTimeout(databaseURL string, timeout time.Duration) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL
	}
	q := u.Query()
	if q.Get("statement_timeout") == "" {
		q.Set("statement_timeout", strconv.FormatInt(timeout.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ensureAdmin creates the admin user on the first start with an empty database. Its password
// comes from ADMIN_PASSWORD or is generated and printed once, to out, by the one server that
// created it.
func ensureAdmin(ctx context.Context, store *db.Store, hasher *auth.Hasher, password string, logger *slog.Logger, out io.Writer) error {
	n, err := store.CountUsers(ctx) // spares a password hash on every later start
	if err != nil || n > 0 {
		return err
	}
	generated := password == ""
	if generated {
		raw := make([]byte, 12)
		_, _ = rand.Read(raw)
		password = base64.RawURLEncoding.EncodeToString(raw) + "a1!A"
	}
	hash, err := hasher.HashNew(ctx, password)
	if err != nil {
		return fmt.Errorf("ADMIN_PASSWORD: %w", err)
	}
	created, err := store.CreateFirstAdmin(ctx, hash)
	if err != nil || !created {
		return err
	}
	if generated {
		fmt.Fprintf(out, "\n  Created user admin with password: %s\n  (shown once; change it with the changePassword mutation)\n\n", password)
	}
	logger.Info("created the admin user")
	return nil
}
