package db_test

import (
	"errors"
	"testing"

	"github.com/lib/pq"
)

// The completed-bill freeze holds by any path: raw SQL, as psql or a seeder would write it,
// cannot change a completed bill's parents or their children, and every such change is
// allowed again once the bill is reopened.
func TestCompletedBillIsFrozenForRawSQL(t *testing.T) {
	t.Parallel()
	conn, mustExec := rawSQL(t)
	mustExec(`INSERT INTO bags (qr, type, area_id) VALUES ('SB00001', 'PARENT', 3), ('SB00002', 'PARENT', 3), ('SB00003', 'PARENT', 3)`)
	mustExec(`INSERT INTO bags (qr, type, parent_id, area_id)
		SELECT 'KID' || i, 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), 3 FROM generate_series(1, 3) i`)
	mustExec(`INSERT INTO bags (qr, type, parent_id, area_id) VALUES ('LOOSE1', 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00003'), 3)`)
	mustExec(`INSERT INTO bills (bill_number, capacity) VALUES ('FROZEN-1', 5), ('OTHER-1', 5)`)
	mustExec(`INSERT INTO bill_bags (bag_id, bill_id) VALUES
		((SELECT id FROM bags WHERE qr = 'SB00001'), (SELECT id FROM bills WHERE bill_number = 'FROZEN-1')),
		((SELECT id FROM bags WHERE qr = 'SB00003'), (SELECT id FROM bills WHERE bill_number = 'OTHER-1'))`)
	mustExec(`UPDATE bills SET completed_at = now() WHERE bill_number = 'FROZEN-1'`)

	frozen := []struct{ name, query string }{
		{"link a child", `INSERT INTO bags (qr, type, parent_id, area_id) VALUES ('KID9', 'CHILD', (SELECT id FROM bags WHERE qr = 'SB00001'), 3)`},
		{"unlink a child", `DELETE FROM bags WHERE qr = 'KID1'`},
		{"link a parent", `INSERT INTO bill_bags (bag_id, bill_id) VALUES ((SELECT id FROM bags WHERE qr = 'SB00002'), (SELECT id FROM bills WHERE bill_number = 'FROZEN-1'))`},
		{"unlink a parent", `DELETE FROM bill_bags WHERE bag_id = (SELECT id FROM bags WHERE qr = 'SB00001')`},
		// refused by bill_bags' RESTRICT foreign key while on any bill, so also after reopening
		// (it was unlinked just before then)
		{"delete the parent", `DELETE FROM bags WHERE qr = 'SB00001'`},
		{"move a child in", `UPDATE bags SET parent_id = (SELECT id FROM bags WHERE qr = 'SB00001') WHERE qr = 'LOOSE1'`},
		{"move a child out", `UPDATE bags SET parent_id = (SELECT id FROM bags WHERE qr = 'SB00003') WHERE qr = 'KID2'`},
		{"move a link in", `UPDATE bill_bags SET bill_id = (SELECT id FROM bills WHERE bill_number = 'FROZEN-1') WHERE bag_id = (SELECT id FROM bags WHERE qr = 'SB00003')`},
		{"move a link out", `UPDATE bill_bags SET bill_id = (SELECT id FROM bills WHERE bill_number = 'OTHER-1') WHERE bag_id = (SELECT id FROM bags WHERE qr = 'SB00001')`},
		{"rewrite the counters", `UPDATE bills SET child_bag_count = 0 WHERE bill_number = 'FROZEN-1'`},
	}
	for _, c := range frozen {
		_, err := conn.Exec(c.query)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || (pqErr.Code != "23514" && pqErr.Code != "23503") {
			t.Errorf("%s on a completed bill: %v, want a check (or foreign key) violation", c.name, err)
		}
	}
	var parents, children int
	if err := conn.QueryRow(`SELECT parent_bag_count, child_bag_count FROM bills WHERE bill_number = 'FROZEN-1'`).Scan(&parents, &children); err != nil {
		t.Fatal(err)
	}
	if parents != 1 || children != 3 {
		t.Errorf("completed bill counters %d parents, %d children; want 1 and 3 as at completion", parents, children)
	}

	// reopened, the same changes go through (moves stay refused: nothing keeps counters for them)
	mustExec(`UPDATE bills SET completed_at = NULL WHERE bill_number = 'FROZEN-1'`)
	for _, c := range frozen[:5] {
		mustExec(c.query)
	}
	// a completed bill can still be deleted (ADMIN): its links go with it
	mustExec(`UPDATE bills SET completed_at = now() WHERE bill_number = 'OTHER-1'`)
	mustExec(`DELETE FROM bills WHERE bill_number = 'OTHER-1'`)
}
