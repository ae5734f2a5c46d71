package db

import (
	"context"
	"time"

	"github.com/lib/pq"
)

// Reads of the live event hub. They go to the primary, never the replica: a NOTIFY says a
// row is committed on the primary, and a lagging replica could answer without it.

// ScanLogFilter selects entries of the scan log after an id, in id order.
type ScanLogFilter struct {
	AfterID int64
	// ThroughID ends the range (0: no end).
	ThroughID int64
	// AreaID keeps one area's scans (nil: every area).
	AreaID *int64
	// Kinds keeps these kinds (empty: every kind).
	Kinds []ScanKind
}

// ScanLog returns up to limit scans the actor may see matching the filter, oldest id first.
func (s *Store) ScanLog(ctx context.Context, a Actor, f ScanLogFilter, limit int) ([]*Scan, error) {
	kinds := make([]string, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = string(k)
	}
	var scans []*Scan
	err := s.db.SelectContext(ctx, &scans, `
		SELECT `+scanColumns+`
		FROM scans
		WHERE id > $1
		  AND ($2 = 0 OR id <= $2)
		  AND ($3::bigint IS NULL OR area_id = $3)
		  AND (cardinality($4::text[]) = 0 OR kind = ANY($4))
		  AND ($6::bigint IS NULL OR area_id = $6)
		ORDER BY id
		LIMIT $5`, f.AfterID, f.ThroughID, f.AreaID, pq.StringArray(kinds), limit, a.scopeParam())
	return scans, wrap(err, "read the scan log")
}

// LastScanID returns the highest id in the scan log (0 when it is empty).
func (s *Store) LastScanID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, `SELECT coalesce(max(id), 0) FROM scans`)
	return id, wrap(err, "read the last scan id")
}

// BillsUpdatedSince returns the bills changed at or after the time, oldest change first (the
// hub re-reads them after its LISTEN connection was lost, when NOTIFYs may have been missed).
func (s *Store) BillsUpdatedSince(ctx context.Context, since time.Time) ([]*Bill, error) {
	var bills []*Bill
	err := s.db.SelectContext(ctx, &bills, `
		SELECT `+billColumns+`
		FROM bills
		WHERE updated_at >= $1
		ORDER BY updated_at, id`, since)
	return bills, wrap(err, "read recently changed bills")
}

// LiveBills returns the bills with the ids as they are now, on the primary.
func (s *Store) LiveBills(ctx context.Context, ids []int64) ([]*Bill, error) {
	var bills []*Bill
	err := s.db.SelectContext(ctx, &bills, `
		SELECT `+billColumns+`
		FROM bills
		WHERE id = ANY($1)
		ORDER BY id`, pq.Int64Array(ids))
	return bills, wrap(err, "read changed bills")
}
