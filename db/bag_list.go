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

// CountBags returns the exact number of bags matching the filter.
func (s *Store) CountBags(ctx context.Context, f BagFilter) (int, error) {
	c := f.conditions()
	var n int
	err := s.reader().GetContext(ctx, &n, `SELECT count(*) FROM bags`+c.where(), c.args...)
	return n, wrap(err, "count bags")
}
