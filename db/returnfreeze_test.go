package db_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lib/pq"
)

// The return is the freeze's only exception, and only in the shape ScanReturn writes it: the
// transaction-local setting naming an OPEN ticket that holds a returned bag of the bill, and a
// change that only takes parents away. Raw SQL without any of these is refused as before;
// closed tickets take no bags and keep their status.
func TestReturnExceptionToTheFreezeIsNarrow(t *testing.T) {
	t.Parallel()
	conn, mustExec := rawSQL(t)
	mustExec(`INSERT INTO bags (qr, type, area_id) VALUES ('SB00001', 'PARENT', 3), ('SB00002', 'PARENT', 3), ('SB00003', 'PARENT', 3)`)
	mustExec(`INSERT INTO bags (qr, type, parent_id, area_id)
		SELECT 'KID' || i, 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), 3 FROM generate_series(1, 3) i`)
	mustExec(`INSERT INTO bills (id, bill_number, capacity) VALUES (1, 'FROZEN-1', 5)`)
	mustExec(`INSERT INTO bill_bags (bag_id, bill_id) SELECT id, 1 FROM bags WHERE type = 'PARENT'`)
	mustExec(`UPDATE bills SET completed_at = now() WHERE id = 1`)
	mustExec(`INSERT INTO return_tickets (id, cf_location) VALUES (1, 'Kota'), (2, 'Bundi')`)
	mustExec(`UPDATE return_tickets SET status = 'CANCELLED', closed_at = now() WHERE id = 2`)

	const setTicket = `SELECT set_config('tracetrack.return_ticket', '1', true);`
	const recordSB1 = `INSERT INTO returned_bags (ticket_id, bag_id, bag_qr, bill_id, bill_number, child_count)
		SELECT 1, id, qr, 1, 'FROZEN-1', child_count FROM bags WHERE qr = 'SB00001';`
	const unlinkSB1 = `DELETE FROM bill_bags WHERE bag_id = (SELECT id FROM bags WHERE qr = 'SB00001');`
	refused := []struct{ name, script string }{
		{"unlink without the setting", recordSB1 + unlinkSB1},
		{"unlink with the setting but no return recorded", setTicket + unlinkSB1},
		{"unlink another parent than the one returned", setTicket + recordSB1 + `DELETE FROM bill_bags WHERE bag_id IN (SELECT id FROM bags WHERE qr IN ('SB00001', 'SB00002'))`},
		{"a return recorded by an earlier transaction", `SELECT set_config('tracetrack.return_ticket', '1', true);
			INSERT INTO returned_bags (ticket_id, bag_id, bag_qr, bill_id, bill_number, child_count, xact)
			SELECT 1, id, qr, 1, 'FROZEN-1', child_count, '1'::xid8 FROM bags WHERE qr = 'SB00001';` + unlinkSB1},
		{"unlink a child under the setting", setTicket + recordSB1 + `DELETE FROM bags WHERE qr = 'KID1'`},
		{"a closed ticket's setting", `SELECT set_config('tracetrack.return_ticket', '2', true);` + recordSB1 + unlinkSB1},
		{"a return on a closed ticket", `INSERT INTO returned_bags (ticket_id, bag_id, bag_qr, bill_id, bill_number, child_count) VALUES (2, 99, 'SB09999', 1, 'FROZEN-1', 0)`},
		{"reopening a closed ticket", `UPDATE return_tickets SET status = 'OPEN', closed_at = NULL WHERE id = 2`},
		{"committing an empty ticket", `UPDATE return_tickets SET status = 'COMMITTED', closed_at = now() WHERE id = 1`},
	}
	for _, c := range refused {
		tx, err := conn.Begin()
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(c.script)
		_ = tx.Rollback()
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "23514" {
			t.Errorf("%s: %v, want a check violation", c.name, err)
		}
	}

	// the sanctioned shape goes through, and the setting ends with its transaction
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(setTicket + recordSB1 + unlinkSB1); err != nil {
		t.Fatalf("the return's own shape: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var parents, children int
	if err := conn.QueryRow(`SELECT parent_bag_count, child_bag_count FROM bills WHERE id = 1`).Scan(&parents, &children); err != nil {
		t.Fatal(err)
	}
	if parents != 2 || children != 0 {
		t.Errorf("after the return: %d parents, %d children; want 2 and 0", parents, children)
	}
	if _, err := conn.Exec(`DELETE FROM bill_bags WHERE bag_id = (SELECT id FROM bags WHERE qr = 'SB00002')`); err == nil {
		t.Error("an unlink on the same connection after the return's transaction passed the freeze")
	}
}

// Only the store's return sets the setting that opens the freeze's exception: any other Go
// code naming it would be a second way past the freeze.
func TestOnlyTheReturnSetsTheFreezeException(t *testing.T) {
	files, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(f, "_test.go") && strings.Contains(string(raw), "tracetrack.return_ticket") {
			users = append(users, f)
		}
	}
	if len(users) != 1 || users[0] != "../db/returns.go" {
		t.Errorf("Go files naming tracetrack.return_ticket: %v, want only ../db/returns.go", users)
	}
}
