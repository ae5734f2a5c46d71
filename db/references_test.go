package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/lib/pq"

	"tracetrack/internal/testdb"
)

// A bag's parent, area and creator are checked once per statement (migration 00023) and hold
// as the foreign keys did, for raw SQL too: a bag naming a missing parent, area or user is
// refused, alone or in a batch, inserted or changed; a referenced area, or a parent with
// children, cannot be deleted (area) or renumbered; a deleted parent takes its children with
// it; a deleted user's bags keep no creator.
func TestBagReferencesHoldForRawSQL(t *testing.T) {
	t.Parallel()
	conn, mustExec := rawSQL(t)
	mustExec(`INSERT INTO users (id, username, password_hash, role) VALUES (7001, 'maker', 'x', 'ADMIN'), (7002, 'other', 'x', 'ADMIN')`)
	mustExec(`INSERT INTO areas (id, code, name) VALUES (77, 'spare', 'Spare')`)
	mustExec(`INSERT INTO bags (qr, type, area_id, created_by) VALUES ('SB00001', 'PARENT', 3, 7001)`)
	mustExec(`INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		SELECT 'KID' || i, 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), 3, 7001 FROM generate_series(1, 5) i`)

	refused := []struct{ name, query, constraint string }{
		{"a child of a missing parent", `INSERT INTO bags (qr, type, parent_id, area_id) VALUES ('ORPHAN1', 'CHILD', 999999, 3)`, "bags_parent_id_fkey"},
		{"a batch with one child of a missing parent", `INSERT INTO bags (qr, type, parent_id, area_id, created_by)
			SELECT 'NEW' || i, 'CHILD', CASE WHEN i = 3 THEN 999999 ELSE (SELECT id FROM bags WHERE qr = 'SB00001') END, 3, 7001
			FROM generate_series(1, 5) i`, "bags_parent_id_fkey"},
		{"a parent with children renumbered", `UPDATE bags SET id = 999999 WHERE qr = 'SB00001'`, "bags_parent_id_fkey"},
		{"a bag of a missing area", `INSERT INTO bags (qr, type, area_id) VALUES ('SB00002', 'PARENT', 99)`, "bags_area_id_fkey"},
		{"a batch with one bag of a missing area", `INSERT INTO bags (qr, type, parent_id, area_id, created_by)
			SELECT 'NEW' || i, 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), CASE WHEN i = 4 THEN 99 ELSE 3 END, 7001
			FROM generate_series(1, 5) i`, "bags_area_id_fkey"},
		{"a batch with one bag of a missing user", `INSERT INTO bags (qr, type, parent_id, area_id, created_by)
			SELECT 'NEW' || i, 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), 3, CASE WHEN i = 2 THEN 9999 ELSE 7001 END
			FROM generate_series(1, 5) i`, "bags_created_by_fkey"},
		{"a bag moved to a missing area", `UPDATE bags SET area_id = 99 WHERE qr = 'KID1'`, "bags_area_id_fkey"},
		{"a bag given a missing creator", `UPDATE bags SET created_by = 9999 WHERE qr = 'KID2'`, "bags_created_by_fkey"},
		{"a referenced area deleted", `DELETE FROM areas WHERE id = 3`, "bags_area_id_fkey"},
		{"a referenced area renumbered", `UPDATE areas SET id = 78 WHERE id = 3`, "bags_area_id_fkey"},
		{"a referenced user renumbered", `UPDATE users SET id = 7003 WHERE id = 7001`, "bags_created_by_fkey"},
	}
	for _, c := range refused {
		if err := foreignKeyViolation(c.query, conn); err != c.constraint {
			t.Errorf("%s: %s, want a foreign key violation of %s", c.name, err, c.constraint)
		}
	}
	var bags int
	if err := conn.QueryRow(`SELECT count(*) FROM bags`).Scan(&bags); err != nil {
		t.Fatal(err)
	}
	if bags != 6 {
		t.Errorf("%d bags after the refused writes, want the 6 before", bags)
	}

	// what the keys allow still goes through
	mustExec(`UPDATE bags SET area_id = 77, created_by = 7002 WHERE qr = 'KID1'`)
	mustExec(`UPDATE bags SET area_id = NULL, created_by = NULL WHERE qr = 'KID2'`)
	mustExec(`DELETE FROM areas WHERE id = 10`)
	mustExec(`DELETE FROM users WHERE id = 7001`)
	var created int
	if err := conn.QueryRow(`SELECT count(*) FROM bags WHERE created_by = 7001`).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if created != 0 {
		t.Errorf("%d bags still name the deleted user, want 0 (their creator set to NULL)", created)
	}
	mustExec(`DELETE FROM bags WHERE qr = 'SB00001'`)
	if err := conn.QueryRow(`SELECT count(*) FROM bags`).Scan(&bags); err != nil {
		t.Fatal(err)
	}
	if bags != 0 {
		t.Errorf("%d bags after their parent was deleted, want 0 (its children go with it)", bags)
	}
	assertNoDanglingReferences(t, conn)

	// outside READ COMMITTED a row trigger's snapshot could miss a concurrent bag: refused
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(`DELETE FROM users WHERE id = 7002`)
	if pqErr := (*pq.Error)(nil); !errors.As(err, &pqErr) || pqErr.Code != "40001" {
		t.Errorf("deleting a user in REPEATABLE READ: %v, want a serialization failure", err)
	}
}

// The references hold when the writers race: whichever of a bag's insert and its parent's,
// area's or user's delete locks the row first, the other waits for it and then sees what it
// did. A delete second takes along (parent), refuses for (area) or clears the creator of (user)
// the bags committed meanwhile; an insert second fails on the deleted row. No bag ever names a
// missing parent, area or user.
func TestBagReferencesHoldUnderConcurrentDeletes(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	conn, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx := t.Context()
	mustExec := func(query string) {
		t.Helper()
		if _, err := conn.Exec(query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	mustExec(`INSERT INTO users (id, username, password_hash, role) VALUES (8001, 'first', 'x', 'ADMIN'), (8002, 'second', 'x', 'ADMIN')`)
	mustExec(`INSERT INTO areas (id, code, name) VALUES (81, 'first_area', 'First'), (82, 'second_area', 'Second')`)
	mustExec(`INSERT INTO bags (qr, type, area_id) SELECT 'SB0000' || i, 'PARENT', 3 FROM generate_series(1, 7) i`)
	batch := func(parent, prefix, area, user string) string {
		return `INSERT INTO bags (qr, type, parent_id, area_id, created_by)
			SELECT '` + prefix + `' || i, 'CHILD', (SELECT id FROM bags WHERE qr = '` + parent + `'), ` + area + `, ` + user + `
			FROM generate_series(1, 30) i`
	}

	cases := []struct {
		name, first, second, wantFirst, wantSecond string
	}{
		{"area deleted after a batch into it", batch("SB00001", "AREAFIRST", "81", "NULL"), `DELETE FROM areas WHERE id = 81`, "", "bags_area_id_fkey"},
		{"user deleted after a batch of theirs", batch("SB00002", "USERFIRST", "3", "8001"), `DELETE FROM users WHERE id = 8001`, "", ""},
		{"batch into an area being deleted", `DELETE FROM areas WHERE id = 82`, batch("SB00003", "AREASECOND", "82", "NULL"), "", "bags_area_id_fkey"},
		{"batch of a user being deleted", `DELETE FROM users WHERE id = 8002`, batch("SB00004", "USERSECOND", "3", "8002"), "", "bags_created_by_fkey"},
		{"parent deleted after a batch into it", batch("SB00005", "PARENTFIRST", "3", "NULL"), `DELETE FROM bags WHERE qr = 'SB00005'`, "", ""},
		{"batch into a parent being deleted", `DELETE FROM bags WHERE qr = 'SB00006'`, batch("SB00006", "PARENTSECOND", "3", "NULL"), "", "bags_parent_id_fkey"},
	}
	for _, c := range cases {
		gotFirst, gotSecond := raceBehind(t, ctx, conn, c.first, c.second)
		if gotFirst != c.wantFirst || gotSecond != c.wantSecond {
			t.Errorf("%s: first %q, second %q; want %q and %q", c.name, gotFirst, gotSecond, c.wantFirst, c.wantSecond)
		}
	}
	var cleared int
	if err := conn.QueryRow(`SELECT count(*) FROM bags WHERE qr LIKE 'USERFIRST%' AND created_by IS NULL`).Scan(&cleared); err != nil {
		t.Fatal(err)
	}
	if cleared != 30 {
		t.Errorf("%d of the deleted user's 30 bags lost their creator, want 30", cleared)
	}
	var left int
	if err := conn.QueryRow(`SELECT count(*) FROM bags WHERE qr LIKE 'PARENT%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d children of the deleted parents are left, want 0", left)
	}

	// REPEATABLE READ: a parent's delete cannot miss children committed since its snapshot, as
	// the cascade's statement would (it keeps that snapshot): the batch updated the parent row,
	// so the delete fails
	rr, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Rollback()
	if _, err := rr.Exec(`SELECT count(*) FROM bags`); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	mustExec(batch("SB00007", "LATE", "3", "NULL"))
	_, err = rr.Exec(`DELETE FROM bags WHERE qr = 'SB00007'`)
	if pqErr := (*pq.Error)(nil); !errors.As(err, &pqErr) || pqErr.Code != "40001" {
		t.Errorf("deleting a parent in REPEATABLE READ after a batch into it committed: %v, want a serialization failure", err)
	}
	assertNoDanglingReferences(t, conn)
}

// raceBehind runs first in a transaction left open, then second on another connection, which
// must wait for first's row locks (seen in pg_stat_activity, no timing), commits first, and
// returns the foreign key constraint each violated ("" when it went through; any other error
// fails the test).
func raceBehind(t *testing.T, ctx context.Context, conn *sql.DB, first, second string) (string, string) {
	t.Helper()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	gotFirst := foreignKeyViolation(first, tx)
	var holder int
	if err := tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	other, err := conn.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var waiter int
	if err := other.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&waiter); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() { done <- foreignKeyViolation(second, other) }()
	for blocked := false; !blocked; {
		if err := conn.QueryRowContext(ctx, `SELECT $1 = ANY (pg_blocking_pids($2))`, holder, waiter).Scan(&blocked); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-done:
			t.Fatalf("%q went through without waiting for %q (%q)", second, first, got)
		default:
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return gotFirst, <-done
}

// foreignKeyViolation runs query and returns the foreign key constraint it violated, "" when
// it succeeded, or the error's text for any other error.
func foreignKeyViolation(query string, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) string {
	_, err := q.ExecContext(context.Background(), query)
	var pqErr *pq.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pqErr) && pqErr.Code == "23503":
		return pqErr.Constraint
	}
	return err.Error()
}

func assertNoDanglingReferences(t *testing.T, conn *sql.DB) {
	t.Helper()
	var dangling int
	if err := conn.QueryRow(`
		SELECT count(*) FROM bags b
		WHERE (b.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bags p WHERE p.id = b.parent_id))
		   OR (b.area_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM areas a WHERE a.id = b.area_id))
		   OR (b.created_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = b.created_by))`).Scan(&dangling); err != nil {
		t.Fatal(err)
	}
	if dangling != 0 {
		t.Errorf("%d bags name a missing parent, area or user", dangling)
	}
}
