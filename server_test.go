package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/internal/testdb"
	"tracetrack/migrations"
	"tracetrack/pgboot"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func testConfig(t *testing.T, databaseURL string) config {
	t.Helper()
	cfg, err := loadConfig([]string{"-database-url", databaseURL}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestMigrationsApplyToEmptyDatabaseAndThenDoNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := db.Open(ctx, testdb.NewEmpty(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := migrations.Apply(ctx, store.DB()); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	applied := func() (n int) {
		if err := store.DB().QueryRowContext(ctx, `SELECT count(*) FROM goose_db_version`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := applied()
	if err := migrations.Apply(ctx, store.DB()); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if after := applied(); after != before {
		t.Errorf("a second apply recorded %d more migrations", after-before)
	}
	if areas, err := store.Areas(ctx); err != nil || len(areas) != 10 {
		t.Errorf("areas after migrating: %d, %v", len(areas), err)
	}
}

// Servers started at once on one empty database all come up, one admin is created and its
// password printed exactly once.
func TestServersStartingTogetherOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testConfig(t, testdb.NewEmpty(t))
	hasher := auth.NewHasher(bcrypt.MinCost, 2)
	const servers = 4
	outs := make([]bytes.Buffer, servers)
	stores := make([]*db.Store, servers)
	errs := make([]error, servers)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = openStore(ctx, cfg, cfg.DatabaseURL, hasher, quiet, &outs[i])
		}()
	}
	wg.Wait()
	printed := 0
	for i := range servers {
		if errs[i] != nil {
			t.Fatalf("server %d did not come up: %v", i, errs[i])
		}
		defer stores[i].Close()
		if strings.Contains(outs[i].String(), "Created user admin with password") {
			printed++
		}
	}
	if printed != 1 {
		t.Errorf("%d servers printed an admin password, want 1", printed)
	}
	if n, _ := stores[0].CountUsers(ctx); n != 1 {
		t.Errorf("%d users after the first start, want 1 (admin)", n)
	}
}

func TestFirstAdminPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hasher := auth.NewHasher(bcrypt.MinCost, 1)

	cfg := testConfig(t, testdb.New(t))
	cfg.AdminPassword = "weak"
	if _, err := openStore(ctx, cfg, cfg.DatabaseURL, hasher, quiet, io.Discard); err == nil || !strings.Contains(err.Error(), "ADMIN_PASSWORD") {
		t.Errorf("a weak ADMIN_PASSWORD: %v, want an error naming it", err)
	}

	cfg.AdminPassword = "Given#Pass1"
	var out bytes.Buffer
	store, err := openStore(ctx, cfg, cfg.DatabaseURL, hasher, quiet, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if out.Len() != 0 {
		t.Errorf("a configured password was printed: %q", out.String())
	}
	admin, err := store.UserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := hasher.Check(ctx, admin.PasswordHash, "Given#Pass1"); !ok || admin.Role != db.RoleAdmin {
		t.Errorf("admin %+v does not have the configured password", admin)
	}

	// a second start changes nothing and prints nothing
	again, err := openStore(ctx, cfg, cfg.DatabaseURL, hasher, quiet, &out)
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if out.Len() != 0 {
		t.Errorf("a second start printed %q", out.String())
	}
}

// With no DATABASE_URL and nothing answering at the local address, the server starts a
// private cluster in the checkout's default folder and creates its database there.
func TestResolveDatabaseStartsAPrivateCluster(t *testing.T) {
	if _, err := pgboot.FindBinaries(); err != nil {
		t.Skip(err)
	}
	t.Parallel()
	ctx := context.Background()
	// a checkout the postgres user cannot enter, as root's home or a `mktemp -d` folder
	checkout := filepath.Join(t.TempDir(), "tracetrack")
	if err := os.Mkdir(checkout, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "")
	cfg.EmbeddedPGDir = pgboot.DefaultDir(checkout)
	defer os.RemoveAll(cfg.EmbeddedPGDir)
	deadLocal := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/tracetrack?sslmode=disable", apitest.FreePort(t))

	resolved, stop, err := resolveDatabase(ctx, cfg, deadLocal, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if resolved == deadLocal || !strings.HasSuffix(strings.SplitN(resolved, "?", 2)[0], "/tracetrack") {
		t.Errorf("resolved to %s", redactURL(resolved))
	}
	store, err := openStore(ctx, cfg, resolved, auth.NewHasher(bcrypt.MinCost, 1), quiet, io.Discard)
	if err != nil {
		t.Fatalf("open the private cluster's database: %v", err)
	}
	defer store.Close()
	if n, err := store.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("users on the private cluster: %d, %v; want the admin", n, err)
	}
}

func TestGivenDatabaseURLIsUsedAsIs(t *testing.T) {
	t.Parallel()
	given := testdb.New(t)
	cfg := testConfig(t, given)
	got, stop, err := resolveDatabase(context.Background(), cfg, "unused", quiet)
	defer stop()
	if err != nil || got != given {
		t.Errorf("resolveDatabase = %q, %v", got, err)
	}
}

// With no DATABASE_URL the local server is used, and the database is created when missing.
func TestResolveDatabaseCreatesTheLocalDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	server, err := url.Parse(testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("tt_resolve_%d", time.Now().UnixNano())
	local := *server
	local.Path = "/" + name
	admin, err := sql.Open("postgres", server.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	defer admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)

	for range 2 { // the second call finds it
		got, stop, err := resolveDatabase(ctx, testConfig(t, ""), local.String(), quiet)
		stop()
		if err != nil || got != local.String() {
			t.Fatalf("resolveDatabase = %q, %v; want %q", got, err, local.String())
		}
	}
	var exists bool
	if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || !exists {
		t.Errorf("database %s was not created (%v)", name, err)
	}
}

func TestUnusableServer(t *testing.T) {
	for err, want := range map[error]bool{
		&net.OpError{Op: "dial", Err: errors.New("connection refused")}: true,
		&pq.Error{Code: "28P01"}:                            true, // password authentication failed
		&pq.Error{Code: "28000"}:                            true, // no pg_hba.conf entry
		fmt.Errorf("wrapped: %w", &pq.Error{Code: "28P01"}): true,
		&pq.Error{Code: "42501"}:                            false, // permission denied to create database
		errors.New("something else"):                        false,
	} {
		if got := unusableServer(err); got != want {
			t.Errorf("unusableServer(%v) = %v, want %v", err, got, want)
		}
	}
}
