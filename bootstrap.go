package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/migrations"
	"tracetrack/pgboot"
)

// defaultDatabaseURL is the local PostgreSQL used when DATABASE_URL is not set.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/tracetrack?sslmode=disable"

// resolveDatabase returns the database URL to use and a function to call at shutdown. A
// given DATABASE_URL is used, its database created when missing. With none it uses the
// database tracetrack on the local PostgreSQL (localURL), created if missing; when no server
// there lets us in, it starts a private cluster (package pgboot).
func resolveDatabase(ctx context.Context, cfg config, localURL string, logger *slog.Logger) (string, func(), error) {
	noop := func() {}
	if cfg.DatabaseURL != "" {
		if err := ensureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return "", noop, fmt.Errorf("DATABASE_URL %s: %w", redactURL(cfg.DatabaseURL), err)
		}
		return cfg.DatabaseURL, noop, nil
	}
	err := ensureDatabase(ctx, localURL)
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
	if err := ensureDatabase(ctx, target); err != nil {
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

// connectTimeout bounds each start-up connection attempt: a host that drops packets would
// otherwise hold the start for the operating system's TCP timeout (minutes).
const connectTimeout = 10 * time.Second

// ensureDatabase connects to the database named in target, creating it first when it does
// not exist and the user may. Every failure is explained in one line (explainConnect).
func ensureDatabase(ctx context.Context, target string) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	err := ping(ctx, target)
	if pqCode(err) == "3D000" { // invalid_catalog_name: the database does not exist
		err = createDatabase(ctx, target)
	}
	return explainConnect(err, target)
}

func ping(ctx context.Context, target string) error {
	conn, err := sql.Open("postgres", target)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.PingContext(ctx)
}

// createDatabase creates the database named in target from the server's maintenance
// database (postgres), as the URL's user, who then owns it.
func createDatabase(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	name := u.Path[1:]
	maintenance := *u
	maintenance.Path = "/postgres"
	conn, err := sql.Open("postgres", maintenance.String())
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	switch pqCode(err) {
	case "42P04": // duplicate_database: a server starting beside us made it
		return nil
	case "42501", "3D000": // no CREATEDB privilege; no maintenance database to connect to
		return &connectProblem{err: err, message: fmt.Sprintf("database %q does not exist and user %q may not create it (%s); "+
			"ask an administrator to run: createdb -h %s -p %s -O %s %s (in SQL: CREATE DATABASE %s OWNER %s;)",
			name, u.User.Username(), pqMessage(err), u.Hostname(), portOf(u), u.User.Username(), name,
			pq.QuoteIdentifier(name), pq.QuoteIdentifier(u.User.Username()))}
	}
	return err
}

// connectProblem is a connection failure explained for a person; it wraps the driver's error.
type connectProblem struct {
	message string
	err     error
}

func (p *connectProblem) Error() string { return p.message }
func (p *connectProblem) Unwrap() error { return p.err }

// explainConnect turns the ways a connection fails into one line saying what to change.
func explainConnect(err error, target string) error {
	if err == nil {
		return nil
	}
	var explained *connectProblem
	if errors.As(err, &explained) {
		return err
	}
	u, _ := url.Parse(target) // checked by loadConfig
	server := net.JoinHostPort(u.Hostname(), portOf(u))
	user := u.User.Username()
	explain := func(format string, args ...any) error {
		return &connectProblem{err: err, message: fmt.Sprintf(format, args...)}
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authorityErr x509.UnknownAuthorityError
	switch code := pqCode(err); {
	case errors.As(err, &dnsErr):
		return explain("host %q is not known (%s); correct the host in the URL", u.Hostname(), dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return explain("nothing accepts connections at %s; start PostgreSQL there or correct the host and port", server)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return explain("no answer from %s within %s; check the host, the port and any firewall between", server, connectTimeout)
	case errors.Is(err, pq.ErrSSLNotSupported):
		return explain("the server at %s does not accept TLS; add sslmode=disable to the URL, or turn ssl on in the server", server)
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authorityErr):
		return explain("the TLS certificate of %s is not trusted (%v); name its CA with sslrootcert=<file> in the URL, "+
			"or use sslmode=require to encrypt without verifying", server, err)
	case code == "" && strings.Contains(err.Error(), "ssl"): // lib/pq reading sslrootcert, sslcert or sslkey
		return explain("the URL's TLS settings are unusable (%v); check sslmode, sslrootcert, sslcert and sslkey", err)
	case code == "28P01":
		return explain("PostgreSQL at %s refused user %q: wrong password; correct it in the URL", server, user)
	case strings.HasPrefix(string(code), "28"): // invalid authorization
		return explain("PostgreSQL at %s refused user %q (%s); check the user and the server's pg_hba.conf", server, user, pqMessage(err))
	case code == "53300":
		return explain("PostgreSQL at %s has no connection left (%s); lower MAX_DB_CONNS or raise max_connections", server, pqMessage(err))
	case code == "57P03":
		return explain("PostgreSQL at %s is starting up or shutting down (%s); try again in a moment", server, pqMessage(err))
	}
	return explain("cannot connect to PostgreSQL at %s as %q: %v", server, user, err)
}

func pqCode(err error) pq.ErrorCode {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code
	}
	return ""
}

func pqMessage(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Message
	}
	return err.Error()
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "5432"
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
		if err := useReplica(ctx, store, cfg, logger); err != nil {
			store.Close()
			return nil, fmt.Errorf("DATABASE_READ_URL %s: %w", redactURL(cfg.DatabaseReadURL), err)
		}
	}
	if err := ensureAdmin(ctx, store, hasher, cfg.AdminPassword, logger, out); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// useReplica sends reads to DATABASE_READ_URL once it answers and holds TraceTrack's
// tables: a URL naming some other database would fail every list at run time instead.
func useReplica(ctx context.Context, store *db.Store, cfg config, logger *slog.Logger) error {
	if err := checkReplica(ctx, store.DB(), cfg.DatabaseReadURL, logger); err != nil {
		return err
	}
	err := store.UseReplica(ctx, withStatementTimeout(cfg.DatabaseReadURL, cfg.StatementTimeout), cfg.MaxDBConns)
	return explainConnect(err, cfg.DatabaseReadURL)
}

func checkReplica(ctx context.Context, primary *sql.DB, readURL string, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	replica, err := sql.Open("postgres", readURL)
	if err != nil {
		return err
	}
	defer replica.Close()
	if err := replica.PingContext(ctx); err != nil {
		return explainConnect(err, readURL)
	}
	const latest = `SELECT max(version_id) FROM goose_db_version`
	var primaryVersion, replicaVersion int64
	if err := primary.QueryRowContext(ctx, latest).Scan(&primaryVersion); err != nil {
		return fmt.Errorf("read the primary's migrations: %w", err)
	}
	err = replica.QueryRowContext(ctx, latest).Scan(&replicaVersion)
	if pqCode(err) == "42P01" { // undefined_table
		return errors.New("the database has no TraceTrack tables; it must be a streaming replica of DATABASE_URL's database")
	}
	if err != nil {
		return fmt.Errorf("read the replica's migrations: %w", err)
	}
	if replicaVersion < primaryVersion {
		logger.Warn("the read replica has not replayed the latest migrations yet; reads may fail until it does",
			"replica_version", replicaVersion, "primary_version", primaryVersion)
	}
	return nil
}

func applyMigrations(ctx context.Context, databaseURL string) error {
	conn, err := sql.Open("postgres", databaseURL)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer conn.Close()
	err = migrations.Apply(ctx, conn)
	if pqCode(err) == "42501" { // insufficient_privilege
		u, _ := url.Parse(databaseURL)
		name, user := pq.QuoteIdentifier(u.Path[1:]), pq.QuoteIdentifier(u.User.Username())
		return fmt.Errorf("migrations: user %s may not create tables in database %s (%s; since PostgreSQL 15 only the "+
			"database owner may by default); run as an administrator: ALTER DATABASE %s OWNER TO %s;", user, name, pqMessage(err), name, user)
	}
	return err
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
