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
		INSERT INTO scans (kind, bag_qr, bag_id, parent_id, bill_id, user_id, area_id)
		SELECT 'PARENT_SCANNED', 'SB00001', CASE WHEN g % 2 = 0 THEN $1::bigint END, CASE WHEN g % 3 = 0 THEN $1::bigint + 1000000 END,
		       CASE WHEN g % 4 <> 0 THEN 3000000 + g END, CASE WHEN g % 5 <> 0 THEN $2::bigint END, CASE WHEN g % 7 <> 0 THEN 1 END
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
		scans, more, err := store.Scans(ctx, db.System, db.ScanFilter{}, page, 0)
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

	// each column alone and a few together: the scans hold those columns as sqlx read them
	// (and the id), every other field zero
	sets := []db.ScanColumns{db.ScanColumnKind | db.ScanColumnAt | db.ScanColumnBagQR,
		db.ScanColumnBagID | db.ScanColumnParentID | db.ScanColumnBillID | db.ScanColumnUserID | db.ScanColumnAreaID}
	for c := db.ScanColumnID; c <= db.ScanColumnAreaID; c <<= 1 {
		sets = append(sets, db.ScanColumnID|c)
	}
	for _, columns := range sets {
		scans, _, err := store.Scans(ctx, db.System, db.ScanFilter{}, db.Page{Limit: len(want)}, columns)
		if err != nil || len(scans) != len(want) {
			t.Fatalf("scans of columns %b: %d of %d, %v", columns, len(scans), len(want), err)
		}
		for i, sc := range scans {
			if w := onlyScanColumns(*want[i], columns); !reflect.DeepEqual(sc, &w) {
				t.Errorf("scan %d of columns %b: %+v, want %+v", i, columns, sc, w)
			}
		}
	}
}

// onlyScanColumns is the scan with the fields of the columns and its id, the others zero.
func onlyScanColumns(s db.Scan, columns db.ScanColumns) db.Scan {
	out := db.Scan{ID: s.ID}
	for _, f := range []struct {
		column db.ScanColumns
		copy   func()
	}{
		{db.ScanColumnKind, func() { out.Kind = s.Kind }},
		{db.ScanColumnAt, func() { out.At = s.At }},
		{db.ScanColumnBagQR, func() { out.BagQR = s.BagQR }},
		{db.ScanColumnBagID, func() { out.BagID = s.BagID }},
		{db.ScanColumnParentID, func() { out.ParentID = s.ParentID }},
		{db.ScanColumnBillID, func() { out.BillID = s.BillID }},
		{db.ScanColumnUserID, func() { out.UserID = s.UserID }},
		{db.ScanColumnAreaID, func() { out.AreaID = s.AreaID }},
	} {
		if columns&f.column != 0 {
			f.copy()
		}
	}
	return out
}
