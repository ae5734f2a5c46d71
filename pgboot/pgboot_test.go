package pgboot_test

import (
	"context"
	"database/sql"
	"net/url"
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
