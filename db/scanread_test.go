package db_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"

	"tracetrack/db"
)

// TestScansReadAsSqlxReadsThem: the scan log page, read by hand into blocks, is what sqlx reads
// from the same rows, null and non-null ids alike, across pages.
func TestScansReadAsSqlxReadsThem(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	user := newAdmin(t, store, "scanreader")
	raw := sqlx.NewDb(store.DB(), "postgres")
	var bag int64
	if err := raw.GetContext(ctx, &bag, `INSERT INTO bags (qr, type, area_id, created_by) VALUES ('SB00001', 'PARENT', 1, $1) RETURNING id`, user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `
		INSERT INTO scans (kind, bag_qr, bag_id, parent_id, user_id, area_id)
		SELECT 'PARENT_SCANNED', 'SB00001', CASE WHEN g % 2 = 0 THEN $1::bigint END, CASE WHEN g % 3 = 0 THEN $1::bigint END,
		       CASE WHEN g % 5 <> 0 THEN $2::bigint END, CASE WHEN g % 7 <> 0 THEN 1 END
		FROM generate_series(1, 25) g`, bag, user.ID); err != nil {
		t.Fatal(err)
	}
	var want []*db.Scan
	if err := raw.SelectContext(ctx, &want, `SELECT id, kind, at, bag_qr, bag_id, parent_id, bill_id, user_id, area_id FROM scans ORDER BY id DESC`); err != nil {
		t.Fatal(err)
	}
	var got []*db.Scan
	page := db.Page{Limit: 10}
	for {
		scans, more, err := store.Scans(ctx, db.System, db.ScanFilter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, scans...)
		if !more {
			break
		}
		page.AfterID = scans[len(scans)-1].ID
	}
	if len(want) < 25 || !reflect.DeepEqual(got, want) {
		t.Fatalf("read %d scans unlike sqlx's %d", len(got), len(want))
	}
}
