package live_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	_ "github.com/lib/pq"

	"tracetrack/internal/apitest"
)

// fixture writes scan-log rows and bills with plain SQL: the same INSERT and UPDATE
// statements the scanning and billing code runs, so they fire the same triggers.
type fixture struct {
	t  testing.TB
	db *sql.DB
	n  int
}

func newFixture(t testing.TB, env *apitest.Env) *fixture {
	t.Helper()
	conn, err := sql.Open("postgres", env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fixture{t: t, db: conn}
}

// scan logs one scan of the kind in the area (code) and returns its id.
func (f *fixture) scan(kind, areaCode string) int64 {
	f.t.Helper()
	f.n++
	var id int64
	err := f.db.QueryRow(`
		INSERT INTO scans (kind, bag_qr, area_id, user_id)
		VALUES ($1, $2, (SELECT id FROM areas WHERE code = $3), NULL)
		RETURNING id`, kind, fmt.Sprintf("SB%05d", f.n), areaCode).Scan(&id)
	if err != nil {
		f.t.Fatalf("fixture: insert scan: %v", err)
	}
	return id
}

// scans logs n PARENT_SCANNED scans in the area and returns their ids.
func (f *fixture) scans(n int, areaCode string) []int64 {
	f.t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = f.scan("PARENT_SCANNED", areaCode)
	}
	return ids
}

// bill creates a bill and returns its id.
func (f *fixture) bill(number string) int64 {
	f.t.Helper()
	var id int64
	err := f.db.QueryRow(`INSERT INTO bills (bill_number, capacity) VALUES ($1, 10) RETURNING id`, number).Scan(&id)
	if err != nil {
		f.t.Fatalf("fixture: insert bill: %v", err)
	}
	return id
}

// describe updates a bill's description.
func (f *fixture) describe(billID int64, text string) {
	f.t.Helper()
	if _, err := f.db.Exec(`UPDATE bills SET description = $2, updated_at = now() WHERE id = $1`, billID, text); err != nil {
		f.t.Fatalf("fixture: update bill: %v", err)
	}
}

// heldDescribe updates a bill's description in a transaction it leaves open for the caller
// to commit.
func (f *fixture) heldDescribe(billID int64, text string) *sql.Tx {
	f.t.Helper()
	tx, err := f.db.BeginTx(context.Background(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.Exec(`UPDATE bills SET description = $2, updated_at = now() WHERE id = $1`, billID, text); err != nil {
		f.t.Fatalf("fixture: update bill: %v", err)
	}
	return tx
}

// rolledBack logs a scan and updates a bill in a transaction that rolls back.
func (f *fixture) rolledBack(billID int64) {
	f.t.Helper()
	tx, err := f.db.BeginTx(context.Background(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO scans (kind, bag_qr, area_id) VALUES ('PARENT_SCANNED', 'SBROLLBACK', 3)`); err != nil {
		f.t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE bills SET description = 'rolled back' WHERE id = $1`, billID); err != nil {
		f.t.Fatal(err)
	}
}

// bulkScans logs n scans in the area with one statement and returns the first and last id.
func (f *fixture) bulkScans(n int, areaCode string) (int64, int64) {
	f.t.Helper()
	var first, last int64
	err := f.db.QueryRow(`
		WITH s AS (
			INSERT INTO scans (kind, bag_qr, area_id)
			SELECT 'PARENT_SCANNED', 'SB' || lpad(g::text, 6, '0'), (SELECT id FROM areas WHERE code = $2)
			FROM generate_series(1, $1) g
			RETURNING id)
		SELECT min(id), max(id) FROM s`, n, areaCode).Scan(&first, &last)
	if err != nil {
		f.t.Fatalf("fixture: bulk insert scans: %v", err)
	}
	return first, last
}
