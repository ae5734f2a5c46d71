package db

import (
	"context"
	"database/sql"
	"time"
)

// ScanFilter narrows the scan log; zero fields do not filter. AreaID is the area asked for;
// the store narrows it to the actor's scope.
type ScanFilter struct {
	Kinds  []ScanKind
	AreaID *int64
	UserID *int64
	After  *time.Time
	Before *time.Time
}

// Scans returns a page of the scan log the actor may see matching the filter, newest first,
// holding the columns asked for (zero: all).
func (s *Store) Scans(ctx context.Context, a Actor, f ScanFilter, page Page, columns ScanColumns) ([]*Scan, bool, error) {
	area, err := a.ReadScope(f.AreaID)
	if err != nil {
		return nil, false, err
	}
	f.AreaID = area
	c := &conditions{}
	anyOf(c, "kind", f.Kinds)
	if f.AreaID != nil {
		c.add("area_id = ?", *f.AreaID)
	}
	if f.UserID != nil {
		c.add("user_id = ?", *f.UserID)
	}
	c.window("at", f.After, f.Before)
	c.newestFirst(page)
	query := `SELECT ` + scanSelect.text(columns) + ` FROM scans` + c.where() + ` ORDER BY id DESC` + page.limit()
	rows, err := s.reader().QueryContext(ctx, query, c.args...)
	if err != nil {
		return nil, false, wrap(err, "list scans")
	}
	defer rows.Close()
	scans, err := readScans(rows, page.Limit+1, columns)
	if err != nil {
		return nil, false, wrap(err, "list scans")
	}
	scans, more := trim(scans, page)
	return scans, more, nil
}

// readScans reads rows of scanColumns as the set reads them (the others are NULL and leave
// their fields zero), up to expected of them into one block of records and one of ids:
// sqlx and database/sql would allocate every record and every id on its own.
func readScans(rows *sql.Rows, expected int, columns ScanColumns) ([]*Scan, error) {
	records := make([]Scan, 0, expected)
	ids := make([]int64, 0, expected*scanIDColumnsRead(columns))
	scans := make([]*Scan, 0, expected)
	var nullable [scanIDColumns]sql.NullInt64
	var skipped sql.RawBytes
	dest := make([]any, 0, scanColumnCount)
	for rows.Next() {
		records = append(records, Scan{})
		sc := &records[len(records)-1]
		nullable = [scanIDColumns]sql.NullInt64{}
		dest = append(dest[:0], &sc.ID, &sc.Kind, &sc.At, &sc.BagQR, &nullable[0], &nullable[1], &nullable[2], &nullable[3], &nullable[4])
		for i := range dest {
			if !hasColumn(columns, i) {
				dest[i] = &skipped
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		for i, id := range []**int64{&sc.BagID, &sc.ParentID, &sc.BillID, &sc.UserID, &sc.AreaID} {
			if nullable[i].Valid {
				ids = append(ids, nullable[i].Int64)
				*id = &ids[len(ids)-1]
			}
		}
		scans = append(scans, sc)
	}
	return scans, rows.Err()
}

// scanColumnCount is how many scanColumns there are; the last scanIDColumns of them are the
// nullable ids (bag_id .. area_id).
const (
	scanColumnCount = 9
	scanIDColumns   = 5
)

// scanIDColumnsRead is how many of the nullable ids the set reads.
func scanIDColumnsRead(columns ScanColumns) int {
	n := 0
	for i := scanColumnCount - scanIDColumns; i < scanColumnCount; i++ {
		if hasColumn(columns, i) {
			n++
		}
	}
	return n
}

// ScanByID returns the scan with the id, or nil. A scan of an area the actor may not see is
// FORBIDDEN (naming nothing of it).
func (s *Store) ScanByID(ctx context.Context, a Actor, id int64) (*Scan, error) {
	var scans []*Scan
	err := s.db.SelectContext(ctx, &scans, `SELECT `+scanColumns+` FROM scans WHERE id = $1`, id)
	if err != nil || len(scans) == 0 {
		return nil, wrap(err, "fetch scan")
	}
	if !a.MaySeeArea(scans[0].AreaID) {
		return nil, errForbiddenScan()
	}
	return scans[0], nil
}
