package db

import (
	"context"
	"time"
)

// BagFilter narrows a bag list; zero fields do not filter. QRPrefix and Search are already
// normalised (SetSearch). AreaID is the area asked for; the store narrows it to the actor's
// scope.
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

// SetSearch sets the QR prefix and the QR substring of the filter from what a client typed
// (nil or blank: no filter), for the list, its count and the export alike, by the rules of
// QRPrefix and QRSubstring.
func (f *BagFilter) SetSearch(qrPrefix, search *string) error {
	var err error
	if f.QRPrefix, err = QRPrefix(qrPrefix); err != nil {
		return err
	}
	f.Search, err = QRSubstring(search)
	return err
}

func (f BagFilter) conditions() *conditions {
	c := &conditions{}
	switch {
	case f.Type != nil && (*f.Type == BagTypeParent || *f.Type == BagTypeChild):
		// written into the statement (one of two texts), where a parameter would keep the
		// generic plan of its prepared statement from the partial indexes of parents
		// (WHERE type = 'PARENT'): a generic plan must fit every value of its parameters
		c.add("type = '" + string(*f.Type) + "'")
	case f.Type != nil:
		c.add("type = ?", string(*f.Type))
	}
	if f.Status != nil {
		c.add("status = ?", string(*f.Status))
	}
	if f.AreaID != nil {
		c.add("area_id = ?", *f.AreaID)
	}
	if f.QRPrefix != "" {
		c.add("qr LIKE ?", prefixPattern(f.QRPrefix))
	}
	if f.Search != "" {
		c.add("qr LIKE ?", containsPattern(f.Search))
	}
	if f.Billed != nil {
		// billed applies to parents: true = on a bill, false = parents on no bill (spelled as
		// the partial indexes of migration 00009 are, so the planner uses them)
		if *f.Billed {
			c.add("billed")
		} else {
			c.add("type = 'PARENT' AND NOT billed")
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

// scoped returns the filter narrowed to the actor's read scope (Actor.ReadScope).
func (f BagFilter) scoped(a Actor) (BagFilter, error) {
	area, err := a.ReadScope(f.AreaID)
	f.AreaID = area
	return f, err
}

// Bags returns a page of the bags the actor may see matching the filter, newest first.
func (s *Store) Bags(ctx context.Context, a Actor, f BagFilter, page Page) ([]*Bag, bool, error) {
	f, err := f.scoped(a)
	if err != nil {
		return nil, false, err
	}
	c := f.conditions()
	c.newestFirst(page)
	query := `SELECT ` + bagColumns + ` FROM bags` + c.where() + ` ORDER BY id DESC` + page.limit()
	rows, err := s.reader().QueryContext(ctx, query, c.args...)
	if err != nil {
		return nil, false, wrap(err, "list bags")
	}
	defer rows.Close()
	// read as BagWithChildren reads its rows (bagRows: the page's bags and ids in two blocks),
	// not by sqlx's reflection, which allocated each bag and id on its own
	read := newBagRows(page.Limit+1, 0)
	bags := make([]*Bag, 0, page.Limit+1)
	for rows.Next() {
		bag, err := read.scan(rows)
		if err != nil {
			return nil, false, wrap(err, "list bags")
		}
		bags = append(bags, bag)
	}
	if err := rows.Err(); err != nil {
		return nil, false, wrap(err, "list bags")
	}
	bags, more := trim(bags, page)
	return bags, more, nil
}

// CountBags returns the exact number of bags matching the filter. A filter of type and area
// only is answered from the stats counters (kept exact in every write transaction) instead
// of counting millions of rows; other filters count the matching rows. Only bags the actor
// may see count.
func (s *Store) CountBags(ctx context.Context, a Actor, f BagFilter) (int, error) {
	f, err := f.scoped(a)
	if err != nil {
		return 0, err
	}
	if f.countedByStats() {
		return s.countFromStats(ctx, f)
	}
	c := f.conditions()
	var n int
	err = s.reader().GetContext(ctx, &n, `SELECT count(*) FROM bags`+c.where(), c.args...)
	return n, wrap(err, "count bags")
}

// countedByStats reports whether the filter narrows by nothing but type, area and (for
// parents) billed: what the stats counters answer.
func (f BagFilter) countedByStats() bool {
	parentsOnly := f.Billed == nil || f.Type == nil || *f.Type == BagTypeParent
	return f.Status == nil && f.QRPrefix == "" && f.Search == "" && parentsOnly &&
		f.CreatedAfter == nil && f.CreatedBefore == nil
}

// countFromStats counts from stat_counters: bags by type, and billed parents (only parents
// go on bills); unbilled ones are the parents less those.
func (s *Store) countFromStats(ctx context.Context, f BagFilter) (int, error) {
	var n int
	err := s.reader().GetContext(ctx, &n, `
		SELECT coalesce(sum(CASE WHEN $3::bool THEN billed_parents
		                         WHEN NOT $3::bool THEN parent_bags - billed_parents
		                         WHEN $1 = 'PARENT' THEN parent_bags
		                         WHEN $1 = 'CHILD' THEN child_bags
		                         ELSE parent_bags + child_bags END), 0)
		FROM stat_counters
		WHERE $2::int IS NULL OR area_id = $2`, typeName(f.Type), f.AreaID, f.Billed)
	return n, wrap(err, "count bags from the stats counters")
}

func typeName(t *BagType) string {
	if t == nil {
		return ""
	}
	return string(*t)
}
