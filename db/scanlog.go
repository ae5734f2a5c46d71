package db

import (
	"context"
	"database/sql"

	"github.com/lib/pq"

	"github.com/jmoiron/sqlx"
)

// The scan log is written in one place: scanLogInsert is the only INSERT INTO scans of the
// store. Every change that logs appends its rows inside its own transaction (a rolled-back
// change leaves no entry): from Go values with logScans, or, where the logged rows are made
// by the same statement (children inserted by a scan), with scanLogInsert over that
// statement's rows.

// scanLogInsert appends one scan row per row of source, in ord order. source is a relation
// aliased e with the columns qr, id, parent_id, bill_id, area_id and ord; kind and userID are
// SQL expressions (a literal, a parameter or a column of e).
func scanLogInsert(source, kind, userID string) string {
	return `INSERT INTO scans (kind, bag_qr, bag_id, parent_id, bill_id, user_id, area_id)
		SELECT ` + kind + `, e.qr, e.id, e.parent_id, e.bill_id, ` + userID + `, e.area_id
		FROM ` + source + `
		ORDER BY e.ord`
}

// scanEntry is one row for the scan log.
type scanEntry struct {
	Kind     ScanKind
	Bag      *Bag
	ParentID *int64
	BillID   *int64
	UserID   *int64
}

// logScans appends entries to the scan log in one statement, in their order. All entries of
// a call are by the first entry's user.
func logScans(ctx context.Context, tx *sqlx.Tx, entries []scanEntry) error {
	if len(entries) == 0 {
		return nil
	}
	kinds := make([]string, len(entries))
	qrs := make([]string, len(entries))
	bagIDs := make([]int64, len(entries))
	parentIDs := make([]sql.NullInt64, len(entries))
	billIDs := make([]sql.NullInt64, len(entries))
	areaIDs := make([]sql.NullInt64, len(entries))
	for i, e := range entries {
		kinds[i], qrs[i], bagIDs[i] = string(e.Kind), e.Bag.QR, e.Bag.ID
		parentIDs[i], billIDs[i], areaIDs[i] = nullable(e.ParentID), nullable(e.BillID), nullable(e.Bag.AreaID)
	}
	_, err := tx.ExecContext(ctx, scanLogInsert(`
		unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[])
		WITH ORDINALITY AS e(kind, qr, id, parent_id, bill_id, area_id, ord)`, `e.kind`, `$7::bigint`),
		pq.Array(kinds), pq.Array(qrs), pq.Array(bagIDs), pq.Array(parentIDs), pq.Array(billIDs),
		pq.Array(areaIDs), nullable(entries[0].UserID))
	return wrap(err, "log scans")
}

// entriesFor is one entry of the kind per bag, with the bill (for bill links and unlinks).
func entriesFor(kind ScanKind, bags []*Bag, billID *int64, userID *int64) []scanEntry {
	entries := make([]scanEntry, len(bags))
	for i, b := range bags {
		entries[i] = scanEntry{Kind: kind, Bag: b, ParentID: b.ParentID, BillID: billID, UserID: userID}
	}
	return entries
}

func nullable(id *int64) sql.NullInt64 {
	if id == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *id, Valid: true}
}
