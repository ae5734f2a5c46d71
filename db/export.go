package db

import (
	"context"
)

// CSV exports read in keyset batches of exportBatchSize rows, each one short query, and hand
// the rows to a callback that writes them to the client. Between batches an export holds no
// database connection, so a client that reads slowly or not at all stalls only its own
// download, never the pool the API and /readyz need. A row added or removed while an export
// runs may or may not appear (there is no snapshot across batches); no row appears twice.
const exportBatchSize = 2000

// exportQuerySlots is how many export batch queries may run at once: a quarter of the pool
// (at least one), so that exports, however many run, leave the rest of the pool to the API
// and /readyz even while they read as fast as their clients take rows.
func exportQuerySlots(poolSize int) int {
	return max(1, poolSize/4)
}

// ExportBills calls each for every bill matching the filter (the bills list's), newest first.
func (s *Store) ExportBills(ctx context.Context, f BillListFilter, each func(*Bill) error) error {
	if err := f.check(); err != nil {
		return err
	}
	return inBatches(ctx, s.exportQueries, func(page Page) ([]*Bill, bool, error) { return s.billRows(ctx, f, page) },
		func(b *Bill) int64 { return b.ID }, each)
}

// ExportScans calls each for every scan the actor may see matching the filter (the scans
// list's ScanFilter and scope), newest first.
func (s *Store) ExportScans(ctx context.Context, a Actor, f ScanFilter, each func(*Scan) error) error {
	return inBatches(ctx, s.exportQueries, func(page Page) ([]*Scan, bool, error) { return s.Scans(ctx, a, f, page, 0) },
		func(scan *Scan) int64 { return scan.ID }, each)
}

// ExportedBag is a bag row of the export with its parent's QR (children) and the number of
// the bill it is on (a child's: its parent's).
type ExportedBag struct {
	Bag
	ParentQR   *string `db:"parent_qr"`
	BillNumber *string `db:"bill_number"`
}

// ExportBags calls each for every bag the actor may see matching the filter (the bags list's
// BagFilter and scope, so the list, its count and the export always agree), in id order.
func (s *Store) ExportBags(ctx context.Context, a Actor, f BagFilter, each func(*ExportedBag) error) error {
	f, err := f.scoped(a)
	if err != nil {
		return err
	}
	return inBatches(ctx, s.exportQueries, func(page Page) ([]*ExportedBag, bool, error) { return s.exportedBags(ctx, f, page) },
		func(b *ExportedBag) int64 { return b.ID }, each)
}

// exportedBags returns a page of the bags matching the filter in id order, each with its
// parent's QR and its bill number.
func (s *Store) exportedBags(ctx context.Context, f BagFilter, page Page) ([]*ExportedBag, bool, error) {
	c := f.conditions()
	c.add("id > ?", page.AfterID)
	var bags []*ExportedBag
	err := s.reader().SelectContext(ctx, &bags, `
		SELECT `+qualified("g", bagColumns)+`,
		       (SELECT p.qr FROM bags p WHERE p.id = g.parent_id) AS parent_qr,
		       (SELECT b.bill_number FROM bill_bags bb JOIN bills b ON b.id = bb.bill_id
		        WHERE bb.bag_id = coalesce(g.parent_id, g.id)) AS bill_number
		FROM (SELECT `+bagColumns+` FROM bags`+c.where()+` ORDER BY id LIMIT `+c.arg(page.Limit+1)+`) g
		ORDER BY g.id`, c.args...)
	if err != nil {
		return nil, false, wrap(err, "export bags")
	}
	bags, more := trim(bags, page)
	return bags, more, nil
}

// inBatches hands every row of a keyset-paged query to each, one batch at a time, each batch
// read in one of the export query slots.
func inBatches[T any](ctx context.Context, slots chan struct{}, page func(Page) ([]T, bool, error),
	id func(T) int64, each func(T) error) error {
	next := Page{Limit: exportBatchSize}
	for {
		rows, more, err := inSlot(ctx, slots, func() ([]T, bool, error) { return page(next) })
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := each(row); err != nil {
				return err
			}
		}
		if !more || len(rows) == 0 {
			return nil
		}
		next.AfterID = id(rows[len(rows)-1])
	}
}

// inSlot runs read once a slot is free (or gives up with ctx).
func inSlot[T any](ctx context.Context, slots chan struct{}, read func() ([]T, bool, error)) ([]T, bool, error) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, wrap(ctx.Err(), "wait for an export slot")
	}
	defer func() { <-slots }()
	return read()
}
