// Package testdb gives each test (or test package) a fresh, migrated PostgreSQL database in
// milliseconds: the migrations run once into a template database named after their content,
// and every test database is a copy of it (CREATE DATABASE ... TEMPLATE).
//
// The server is TEST_DATABASE_URL (default: postgres@127.0.0.1:5432, trust auth).
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"tracetrack/migrations"
)

const defaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the URL of the maintenance database of the test server.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultServerURL
}

// New creates a fresh migrated database for t, dropped when t ends, and returns its URL.
func New(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := openAdmin(t)
	template, err := ensureTemplate(ctx, admin)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	name := "tt_test_" + randomSuffix()
	if _, err := admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
		admin.Close()
	})
	return withDatabase(ServerURL(), name)
}

// NewEmpty creates an empty database (no migrations) for t and returns its URL.
func NewEmpty(t testing.TB) string {
	t.Helper()
	admin := openAdmin(t)
	name := "tt_empty_" + randomSuffix()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
		admin.Close()
	})
	return withDatabase(ServerURL(), name)
}

func openAdmin(t testing.TB) *sql.DB {
	t.Helper()
	admin, err := sql.Open("postgres", ServerURL())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if err := admin.Ping(); err != nil {
		t.Fatalf("testdb: PostgreSQL at %s does not answer (set TEST_DATABASE_URL): %v", ServerURL(), err)
	}
	return admin
}

// ensureTemplate creates the template for the current migrations unless it exists. An
// advisory lock makes parallel test binaries wait for the one that builds it.
func ensureTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	name := "tt_template_" + migrationsHash()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7461)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7461)`)

	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	if err := migrate(ctx, withDatabase(ServerURL(), building)); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrate(ctx context.Context, url string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	return migrations.Apply(ctx, db)
}

// migrationsHash names the template after the migration files, so a changed migration gets
// a new template instead of a stale one.
func migrationsHash() string {
	h := sha256.New()
	names, _ := fs.Glob(migrations.Files, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		body, _ := fs.ReadFile(migrations.Files, n)
		h.Write([]byte(n))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(serverURL, name string) string {
	u, err := url.Parse(serverURL)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

// ClusterDir returns a folder for a private PostgreSQL cluster (package pgboot) that the
// cluster's owner can enter even when the test runs as root: t.TempDir's parent is closed to
// other users. It is removed when t ends.
func ClusterDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tracetrack-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "pg")
}
