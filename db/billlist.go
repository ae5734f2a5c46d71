package db

import (
	"context"
	"strings"
	"time"
)

// BillListFilter narrows the bills list and the bills export; nil fields do not filter.
type BillListFilter struct {
	Status *BillStatus
	// Search: bill number or destination contains it, any case (trigram indexes).
	Search        *string
	CreatedByID   *int64
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
}

// check refuses a filter the list and the export cannot answer cheaply.
func (f BillListFilter) check() error {
	return CheckBillSearch(f.Search)
}

// conditions is the filter as the WHERE of the list, its count and the export: only the
// filters given, so that each combination is a statement of its own whose generic plan fits
// it (a clause like "$1 IS NULL OR status = $1" in one statement for all would be planned
// again at every execution).
func (f BillListFilter) conditions() *conditions {
	c := &conditions{}
	if f.Status != nil {
		c.add("status = ?", string(*f.Status))
	}
	if f.Search != nil {
		p := containsPattern(strings.TrimSpace(*f.Search))
		c.add("(bill_number ILIKE ? OR destination ILIKE ?)", p, p)
	}
	if f.CreatedByID != nil {
		c.add("created_by = ?", *f.CreatedByID)
	}
	c.window("created_at", f.CreatedAfter, f.CreatedBefore)
	return c
}

// BillPage is one keyset page of bills, newest first, with the count of every match.
type BillPage struct {
	Bills      []*Bill
	HasNext    bool
	TotalCount int
}

// Bills returns the bills matching the filter, newest (highest id) first, a page at a time.
func (s *Store) Bills(ctx context.Context, f BillListFilter, page Page) (*BillPage, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	out := &BillPage{}
	var err error
	if out.Bills, out.HasNext, err = s.billRows(ctx, f, page); err != nil {
		return nil, err
	}
	out.TotalCount, err = s.countBills(ctx, f)
	return out, err
}

// billRows returns a page of the bills matching the filter, newest first: the list's and the
// export's one query.
func (s *Store) billRows(ctx context.Context, f BillListFilter, page Page) ([]*Bill, bool, error) {
	c := f.conditions()
	c.newestFirst(page)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+billColumns+` FROM bills`+c.where()+
		` ORDER BY id DESC`+page.limit(), c.args...)
	if err != nil {
		return nil, false, wrap(err, "list bills")
	}
	defer rows.Close()
	// the page's bills in one block, scanned into their fields (not sqlx's reflection)
	records := make([]Bill, 0, page.Limit+1)
	bills := make([]*Bill, 0, page.Limit+1)
	for rows.Next() {
		records = append(records, Bill{})
		b := &records[len(records)-1]
		if err := rows.Scan(b.fields()...); err != nil {
			return nil, false, wrap(err, "list bills")
		}
		bills = append(bills, b)
	}
	if err := rows.Err(); err != nil {
		return nil, false, wrap(err, "list bills")
	}
	bills, more := trim(bills, page)
	return bills, more, nil
}

// countBills counts the bills matching the filter. By status alone, or unfiltered (the
// bills screen's first page), it reads the counters the bill triggers keep instead of
// counting every bill.
func (s *Store) countBills(ctx context.Context, f BillListFilter) (int, error) {
	var n int
	if f.Search == nil && f.CreatedByID == nil && f.CreatedAfter == nil && f.CreatedBefore == nil {
		err := s.reader().GetContext(ctx, &n, `
			SELECT coalesce(sum(CASE $1::text WHEN 'OPEN' THEN open_bills
			                                  WHEN 'IN_PROGRESS' THEN in_progress_bills
			                                  WHEN 'COMPLETED' THEN completed_bills
			                                  ELSE open_bills + in_progress_bills + completed_bills END), 0)
			FROM stat_counters`, f.Status)
		return n, wrap(err, "count bills from the stats counters")
	}
	c := f.conditions()
	err := s.reader().GetContext(ctx, &n, `SELECT count(*) FROM bills`+c.where(), c.args...)
	return n, wrap(err, "count bills")
}
