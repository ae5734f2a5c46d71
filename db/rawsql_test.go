package db_test

import (
	"database/sql"
	"testing"

	"tracetrack/internal/testdb"
)

// rawSQL opens a fresh test database on one connection, for tests that write SQL as psql or a
// seeder would (past the store), and a mustExec that fails the test on any error. One
// connection also makes a setting that leaks out of a transaction show.
func rawSQL(t *testing.T) (*sql.DB, func(query string)) {
	t.Helper()
	conn, err := sql.Open("postgres", testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetMaxOpenConns(1)
	return conn, func(query string) {
		t.Helper()
		if _, err := conn.Exec(query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
}
