package pgboot_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tracetrack/internal/testdb"
	"tracetrack/pgboot"
)

func TestStartInitializesRunsAndRestarts(t *testing.T) {
	if _, err := pgboot.FindBinaries(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	dir := testdb.ClusterDir(t)

	first, err := pgboot.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Stop() })
	if !first.Initialized {
		t.Error("the first start did not report initializing the cluster")
	}
	mustQuery(t, first.URL("postgres"))

	again, err := pgboot.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Initialized || again.URL("postgres") != first.URL("postgres") {
		t.Errorf("a second start while running did not reuse the server: %s vs %s", again.URL("postgres"), first.URL("postgres"))
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, first.URL("postgres")) // Stop by a process that did not start it leaves it running

	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted, err := pgboot.Start(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = restarted.Stop() })
	if restarted.Initialized {
		t.Error("a restart ran initdb again")
	}
	mustQuery(t, restarted.URL("postgres"))
}

func TestPasswordIsRequired(t *testing.T) {
	if _, err := pgboot.FindBinaries(); err != nil {
		t.Skip(err)
	}
	c, err := pgboot.Start(context.Background(), testdb.ClusterDir(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	withoutPassword := "postgres://postgres@" + hostOf(t, c.URL("postgres")) + "/postgres?sslmode=disable"
	conn, _ := sql.Open("postgres", withoutPassword)
	defer conn.Close()
	if err := conn.Ping(); err == nil {
		t.Error("the private cluster let a client in without the password")
	}
}

func mustQuery(t *testing.T, url string) {
	t.Helper()
	conn, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var one int
	if err := conn.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("query the private cluster: %v", err)
	}
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// A checkout the postgres user cannot enter (a 0700 folder under a 0700 folder, as root's home
// and `mktemp -d` are) still gets a working cluster from its default folder, which lies
// outside the checkout; two checkouts get different folders, one checkout always the same.
func TestDefaultDirWorksFromAClosedCheckout(t *testing.T) {
	if _, err := pgboot.FindBinaries(); err != nil {
		t.Skip(err)
	}
	parent := t.TempDir() // 0700
	checkout := filepath.Join(parent, "tracetrack")
	if err := os.Mkdir(checkout, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := pgboot.DefaultDir(checkout)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if strings.HasPrefix(dir, parent) {
		t.Fatalf("the default folder %s is inside the closed checkout", dir)
	}
	if pgboot.DefaultDir(checkout) != dir || pgboot.DefaultDir(filepath.Join(parent, "other")) == dir {
		t.Errorf("default folders are not one per checkout: %s", dir)
	}
	if os.Geteuid() == 0 { // the case that used to fail: as root, PostgreSQL runs as postgres
		_, err := pgboot.Start(context.Background(), filepath.Join(checkout, ".tracetrack-pg"))
		if err == nil || !strings.Contains(err.Error(), "cannot enter") || !strings.Contains(err.Error(), "EMBEDDED_PG_DIR") {
			t.Errorf("a folder inside the closed checkout: %v; want the reason and the setting to change", err)
		}
	}
	c, err := pgboot.Start(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	mustQuery(t, c.URL("postgres"))
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("the cluster folder is not closed to others: %v %v", info.Mode(), err)
	}
}

// A folder someone else made first in the shared temporary directory is refused.
func TestForeignFolderIsRefused(t *testing.T) {
	if _, err := pgboot.FindBinaries(); err != nil {
		t.Skip(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a folder owned by someone else")
	}
	dir := testdb.ClusterDir(t)
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil { // nobody
		t.Fatal(err)
	}
	if _, err := pgboot.Start(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "not a folder of yours") {
		t.Errorf("a folder of nobody's: %v", err)
	}
}
