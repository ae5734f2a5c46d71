package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"tracetrack/auth"
	"tracetrack/internal/apitest"
	"tracetrack/internal/testdb"
)

// A taken port stops start-up at once, naming the address and the setting to change, and
// nothing claims to be listening.
func TestTakenPortExitsNamingTheAddress(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, tc := range []struct {
		args    []string
		setting string
	}{
		{[]string{"-listen-addr", addr}, "LISTEN_ADDR"},
		{[]string{"-listen-addr", "127.0.0.1:0", "-debug-addr", addr}, "DEBUG_ADDR"},
	} {
		var logs apitest.SyncBuffer
		err := run(context.Background(), tc.args, envOf(nil), io.Discard, &logs)
		if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), tc.setting) ||
			!strings.Contains(err.Error(), "already in use") {
			t.Errorf("%v: %v; want an error naming %s and %s", tc.args, err, addr, tc.setting)
		}
		if strings.Contains(logs.String(), "listening") {
			t.Errorf("%v: logged listening before failing: %s", tc.args, logs.String())
		}
	}
}

// "listening" is logged once the port is bound, with the real address (port 0 becomes the
// port chosen), and that address answers; cancelling the context shuts down cleanly.
func TestStartLogsTheBoundAddressAndServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs apitest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen-addr", "127.0.0.1:0", "-database-url", testdb.New(t),
			"-admin-password", "Given#Pass1", "-shutdown-timeout", "5s"}, envOf(nil), io.Discard, &logs)
	}()
	listening := regexp.MustCompile(`msg="tracetrack listening" addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == "" && time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("run returned before listening: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" || strings.HasSuffix(addr, ":0") {
		t.Fatalf("no listening line with a bound address: %s", logs.String())
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("the logged address does not answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// A DATABASE_URL naming a database that does not exist: created when the user may.
func TestMissingDatabaseIsCreated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	target, admin := missingDatabase(t, "postgres")
	cfg := testConfig(t, target)
	got, stop, err := resolveDatabase(ctx, cfg, "unused", quiet)
	defer stop()
	if err != nil || got != target {
		t.Fatalf("resolveDatabase = %q, %v", got, err)
	}
	store, err := openStore(ctx, cfg, got, auth.NewHasher(bcrypt.MinCost, 1), quiet, io.Discard)
	if err != nil {
		t.Fatalf("open the created database: %v", err)
	}
	store.Close()
	if !databaseExists(t, admin, target) {
		t.Errorf("the database of %s was not created", target)
	}
}

// When the user may not create it, the message says exactly what to run.
func TestMissingDatabaseWithoutPrivilegeSaysWhatToRun(t *testing.T) {
	t.Parallel()
	role := fmt.Sprintf("tt_nocreatedb_%d", time.Now().UnixNano())
	target, admin := missingDatabase(t, role)
	if _, err := admin.Exec(`CREATE ROLE ` + role + ` LOGIN NOCREATEDB`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`DROP ROLE IF EXISTS ` + role) })
	_, stop, err := resolveDatabase(context.Background(), testConfig(t, target), "unused", quiet)
	defer stop()
	u, _ := url.Parse(target)
	name := u.Path[1:]
	for _, want := range []string{"DATABASE_URL", fmt.Sprintf("database %q does not exist", name),
		fmt.Sprintf("createdb -h %s -p %s -O %s %s", u.Hostname(), portOf(u), role, name),
		fmt.Sprintf(`CREATE DATABASE "%s" OWNER "%s";`, name, role)} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant it to contain %s", err, want)
		}
	}
	if databaseExists(t, admin, target) {
		t.Error("the database was created anyway")
	}
}

// Other DATABASE_URL and DATABASE_READ_URL failures: one line saying what to change.
func TestDatabaseFailuresAreExplained(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	down := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/tracetrack?sslmode=disable", apitest.FreePort(t))
	_, _, err := resolveDatabase(ctx, testConfig(t, down), "unused", quiet)
	if want := "nothing accepts connections at 127.0.0.1:"; err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "DATABASE_URL ") {
		t.Errorf("host down: %v; want DATABASE_URL ... %s", err, want)
	}

	cfg := testConfig(t, testdb.New(t))
	cfg.DatabaseReadURL = down
	_, err = openStore(ctx, cfg, cfg.DatabaseURL, auth.NewHasher(bcrypt.MinCost, 1), quiet, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "DATABASE_READ_URL ") || !strings.Contains(err.Error(), "nothing accepts connections") {
		t.Errorf("replica down: %v", err)
	}
	cfg.DatabaseReadURL = testdb.NewEmpty(t)
	_, err = openStore(ctx, cfg, cfg.DatabaseURL, auth.NewHasher(bcrypt.MinCost, 1), quiet, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no TraceTrack tables") {
		t.Errorf("a replica of some other database: %v", err)
	}
	cfg.DatabaseReadURL = cfg.DatabaseURL // a replica that is the primary itself holds the tables
	store, err := openStore(ctx, cfg, cfg.DatabaseURL, auth.NewHasher(bcrypt.MinCost, 1), quiet, io.Discard)
	if err != nil {
		t.Fatalf("a good replica: %v", err)
	}
	store.Close()

	// the test server's certificate names no IP (verify-full) and is self-signed (verify-ca);
	// a server without TLS fails each of them too, explained another way
	for _, tls := range []string{"sslmode=verify-full", "sslmode=verify-ca&sslrootcert=/etc/ssl/certs/ca-certificates.crt",
		"sslmode=require&sslrootcert=/dev/null"} {
		err := ensureDatabase(ctx, strings.Replace(testdb.ServerURL(), "sslmode=disable", tls, 1))
		if err == nil || !strings.Contains(err.Error(), "TLS") {
			t.Errorf("%s: %v; want the TLS trouble explained", tls, err)
		}
	}
}

func TestExplainConnect(t *testing.T) {
	const target = "postgres://app:secret@db.example.com/tracetrack"
	for err, want := range map[error]string{
		&pq.Error{Code: "28P01"}: `PostgreSQL at db.example.com:5432 refused user "app": wrong password; correct it in the URL`,
		&pq.Error{Code: "28000", Message: `no pg_hba.conf entry for host "10.0.0.1"`}:             `PostgreSQL at db.example.com:5432 refused user "app" (no pg_hba.conf entry for host "10.0.0.1"); check the user and the server's pg_hba.conf`,
		&pq.Error{Code: "53300", Message: "too many clients"}:                                     "lower MAX_DB_CONNS or raise max_connections",
		&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "db.example.com"}}: `host "db.example.com" is not known (no such host); correct the host in the URL`,
		fmt.Errorf("dial: %w", context.DeadlineExceeded):                                          "no answer from db.example.com:5432 within 10s",
		pq.ErrSSLNotSupported: "does not accept TLS; add sslmode=disable to the URL",
		errors.New("odd"):     `cannot connect to PostgreSQL at db.example.com:5432 as "app": odd`,
	} {
		got := explainConnect(err, target)
		if got == nil || !strings.Contains(got.Error(), want) || strings.Contains(got.Error(), "secret") {
			t.Errorf("explainConnect(%v) = %v; want %s", err, got, want)
		}
		if !errors.Is(got, err) {
			t.Errorf("explainConnect(%v) lost the driver's error", err)
		}
	}
}

// missingDatabase returns a URL on the test server, as user, naming a database that does not
// exist (dropped after the test), and a connection to the server as its administrator.
func missingDatabase(t *testing.T, user string) (string, *sql.DB) {
	t.Helper()
	server, err := url.Parse(testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("postgres", server.String())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("tt_missing_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		admin.Close()
	})
	target := *server
	target.User = url.User(user)
	target.Path = "/" + name
	return target.String(), admin
}

func databaseExists(t *testing.T, admin *sql.DB, target string) bool {
	t.Helper()
	u, _ := url.Parse(target)
	var exists bool
	if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, u.Path[1:]).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}
