package db

import (
	"context"
	"database/sql"

	"github.com/lib/pq"

	"github.com/jmoiron/sqlx"
)

// scanEntry is one row for the scan log.
type scanEntry struct {
	Kind     ScanKind
	Bag      *Bag
	ParentID *int64
	BillID   *int64
	UserID   *int64
}

// logScans appends entries to the scan log in one statement, inside the transaction of the
// change they describe (so a rolled-back change leaves no entry).
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
	_, err := tx.ExecContext(ctx, `
		INSERT INTO scans (kind, bag_qr, bag_id, parent_id, bill_id, user_id, area_id)
		SELECT k, q, b, p, bl, $7, a
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[])
		     AS e(k, q, b, p, bl, a)`,
		pq.Array(kinds), pq.Array(qrs), pq.Array(bagIDs), pq.Array(parentIDs), pq.Array(billIDs),
		pq.Array(areaIDs), entries[0].UserID)
	return wrap(err, "log scans")
}

func nullable(id *int64) sql.NullInt64 {
	if id == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *id, Valid: true}
}
