package db

import (
	"context"
	"time"
)

// BagFilter narrows a bag list; zero fields do not filter. QRPrefix and Search are already
// upper-cased.
type BagFilter struct {
	Type          *BagType
	Status        *BagStatus
	AreaID        *int64
	QRPrefix      string
	Search        string
	Billed        *bool
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
}

func (f BagFilter) conditions() *conditions {
	c := &conditions{}
	if f.Type != nil {
		c.add("type = ?", string(*f.Type))
	}
	if f.Status != nil {
		c.add("status = ?", string(*f.Status))
	}
	if f.AreaID != nil {
		c.add("area_id = ?", *f.AreaID)
	}
	if f.QRPrefix != "" {
		c.add("qr LIKE ?", likePattern(f.QRPrefix)+"%")
	}
	if f.Search != "" {
		c.add("qr LIKE ?", "%"+likePattern(f.Search)+"%")
	}
	if f.Billed != nil {
		// billed applies to parents: true = on a bill, false = parents on no bill
		if *f.Billed {
			c.add("EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = bags.id)")
		} else {
			c.add("type = 'PARENT' AND NOT EXISTS (SELECT 1 FROM bill_bags bb WHERE bb.bag_id = bags.id)")
		}
	}
	if f.CreatedAfter != nil {
		c.add("created_at >= ?", *f.CreatedAfter)
	}
	if f.CreatedBefore != nil {
		c.add("created_at < ?", *f.CreatedBefore)
	}
	return c
}

// Bags returns a page of bags matching the filter, newest first.
func (s *Store) Bags(ctx context.Context, f BagFilter, page Page) ([]*Bag, bool, error) {
	c := f.conditions()
	if page.AfterID > 0 {
		c.add("id < ?", page.AfterID)
	}
	query := `SELECT ` + bagColumns + ` FROM bags` + c.where() + ` ORDER BY id DESC LIMIT ` + c.arg(page.Limit+1)
	var bags []*Bag
	if err := s.reader().SelectContext(ctx, &bags, query, c.args...); err != nil {
		return nil, false, wrap(err, "list bags")
	}
	bags, more := trim(bags, page)
	return bags, more, nil
}

// CountBags returns the exact number of bags matching the filter. A filter of type and area
// only is answered from the stats counters (kept exact in every write transaction) instead
// of counting millions of rows; other filters count the matching rows.
func (s *Store) CountBags(ctx context.Context, f BagFilter) (int, error) {
	if f.countedByStats() {
		return s.countFromStats(ctx, f)
	}
	c := f.conditions()
	var n int
	err := s.reader().GetContext(ctx, &n, `SELECT count(*) FROM bags`+c.where(), c.args...)
	return n, wrap(err, "count bags")
}

// countedByStats reports whether the filter narrows by nothing but type, area and (for
// parents) billed: what the counters and the small bill_bags table answer.
func (f BagFilter) countedByStats() bool {
	parentsOnly := f.Billed == nil || f.Type == nil || *f.Type == BagTypeParent
	return f.Status == nil && f.QRPrefix == "" && f.Search == "" && parentsOnly &&
		f.CreatedAfter == nil && f.CreatedBefore == nil
}

// countFromStats counts from stat_counters; billed parents are the rows of bill_bags (only
// parents go on bills), unbilled ones the parents less those.
func (s *Store) countFromStats(ctx context.Context, f BagFilter) (int, error) {
	var n int
	err := s.reader().GetContext(ctx, &n, `
		WITH counted AS (
			SELECT coalesce(sum(CASE $1 WHEN 'PARENT' THEN parent_bags WHEN 'CHILD' THEN child_bags
			                            ELSE parent_bags + child_bags END), 0) AS bags,
			       coalesce(sum(parent_bags), 0) AS parents
			FROM stat_counters
			WHERE $2::int IS NULL OR area_id = $2
		), billed AS (
			SELECT count(*) AS parents
			FROM bill_bags bb
			WHERE $3::bool IS NOT NULL
			  AND ($2::int IS NULL OR EXISTS (SELECT 1 FROM bags b WHERE b.id = bb.bag_id AND b.area_id = $2))
		)
		SELECT CASE WHEN $3::bool IS NULL THEN c.bags
		            WHEN $3 THEN b.parents
		            ELSE c.parents - b.parents END
		FROM counted c, billed b`, typeName(f.Type), f.AreaID, f.Billed)
	return n, wrap(err, "count bags from the stats counters")
}

func typeName(t *BagType) string {
	if t == nil {
		return ""
	}
	return string(*t)
}
