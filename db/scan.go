package db

import (
	"context"
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

// Scans returns a page of the scan log the actor may see matching the filter, newest first.
func (s *Store) Scans(ctx context.Context, a Actor, f ScanFilter, page Page) ([]*Scan, bool, error) {
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
	if page.AfterID > 0 {
		c.add("id < ?", page.AfterID)
	}
	query := `SELECT ` + scanColumns + ` FROM scans` + c.where() + ` ORDER BY id DESC LIMIT ` + c.arg(page.Limit+1)
	var scans []*Scan
	if err = s.reader().SelectContext(ctx, &scans, query, c.args...); err != nil {
		return nil, false, wrap(err, "list scans")
	}
	scans, more := trim(scans, page)
	return scans, more, nil
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
