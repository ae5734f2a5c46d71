package db

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// CSV exports stream rows one at a time to a callback, so a million rows take constant
// memory. They run in a read-only transaction with a long statement timeout of their own:
// the server's short timeout is for interactive requests, and an export of every bag takes
// longer than that to send.
const exportStatementTimeout = "15min"

// ExportBills calls each for every bill matching the filter, newest first.
func (s *Store) ExportBills(ctx context.Context, f BillListFilter, each func(*Bill) error) error {
	return s.exportRows(ctx, `
		SELECT `+billColumns+`
		FROM bills
		WHERE `+billFilterSQL+`
		ORDER BY id DESC`, billFilterArgs(f), func(rows *sqlx.Rows) error {
		var b Bill
		if err := rows.StructScan(&b); err != nil {
			return wrap(err, "read bill row")
		}
		return each(&b)
	})
}

// BagExportFilter narrows the bags export (the bags list's filter; AreaID is the area asked
// for, narrowed by ExportBags to the actor's read scope).
type BagExportFilter struct {
	Type          *BagType
	Status        *BagStatus
	AreaID        *int64
	QRPrefix      *string
	Search        *string
	Billed        *bool
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
}

// ExportedBag is a bag row of the export with its parent's QR (children) and the number of
// the bill it is on (a child's: its parent's).
type ExportedBag struct {
	Bag
	ParentQR   *string `db:"parent_qr"`
	BillNumber *string `db:"bill_number"`
}

// ExportBags calls each for every bag the actor may see matching the filter, in id order.
func (s *Store) ExportBags(ctx context.Context, a Actor, f BagExportFilter, each func(*ExportedBag) error) error {
	area, err := a.ReadScope(f.AreaID)
	if err != nil {
		return err
	}
	f.AreaID = area
	upper := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := strings.ToUpper(strings.TrimSpace(*p))
		return &v
	}
	var prefix, contains *string
	if p := upper(f.QRPrefix); p != nil {
		v := escapeLike(*p) + "%"
		prefix = &v
	}
	if p := upper(f.Search); p != nil {
		v := "%" + escapeLike(*p) + "%"
		contains = &v
	}
	return s.exportRows(ctx, `
		SELECT `+qualified("g", bagColumns)+`, p.qr AS parent_qr, b.bill_number
		FROM bags g
		LEFT JOIN bags p ON p.id = g.parent_id
		LEFT JOIN bill_bags bb ON bb.bag_id = coalesce(g.parent_id, g.id)
		LEFT JOIN bills b ON b.id = bb.bill_id
		WHERE ($1::text IS NULL OR g.type = $1)
		  AND ($2::text IS NULL OR g.status = $2)
		  AND ($3::int IS NULL OR g.area_id = $3)
		  AND ($4::text IS NULL OR g.qr LIKE $4)
		  AND ($5::text IS NULL OR g.qr LIKE $5)
		  AND ($6::boolean IS NULL OR (g.type = 'PARENT' AND (bb.id IS NOT NULL) = $6))
		  AND ($7::timestamptz IS NULL OR g.created_at >= $7)
		  AND ($8::timestamptz IS NULL OR g.created_at < $8)
		ORDER BY g.id`,
		[]any{f.Type, f.Status, f.AreaID, prefix, contains, f.Billed, f.CreatedAfter, f.CreatedBefore},
		func(rows *sqlx.Rows) error {
			var b ExportedBag
			if err := rows.StructScan(&b); err != nil {
				return wrap(err, "read bag row")
			}
			return each(&b)
		})
}

// exportRows runs query in a read-only transaction and hands each row to scan.
func (s *Store) exportRows(ctx context.Context, query string, args []any, scan func(*sqlx.Rows) error) error {
	tx, err := s.reader().BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrap(err, "begin export")
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep or lose
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = '`+exportStatementTimeout+`'`); err != nil {
		return wrap(err, "begin export")
	}
	rows, err := tx.QueryxContext(ctx, query, args...)
	if err != nil {
		return wrap(err, "export rows")
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return wrap(rows.Err(), "export rows")
}
