package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
)

// NewBill is what createBill stores. BillNumber is normalised and checked by CreateBill.
type NewBill struct {
	BillNumber    string
	Description   *string
	Destination   *string
	VehicleNumber *string
	Capacity      int
}

// CreateBill stores a new, empty bill created by the actor. A bill number already taken (any
// case) is CONFLICT.
func (s *Store) CreateBill(ctx context.Context, a Actor, nb NewBill) (*Bill, error) {
	number := NormalizeBillNumber(nb.BillNumber)
	if err := CheckBillNumber(number); err != nil {
		return nil, err
	}
	if err := CheckBillCapacity(nb.Capacity); err != nil {
		return nil, err
	}
	if err := CheckBillDetails(nb.Description, nb.Destination, nb.VehicleNumber); err != nil {
		return nil, err
	}
	var bill Bill
	err := s.db.GetContext(ctx, &bill, `
		INSERT INTO bills (bill_number, description, destination, vehicle_number, capacity, created_by)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+billColumns, number, nb.Description, nb.Destination, nb.VehicleNumber, nb.Capacity, a.UserID)
	if code, constraint := constraintName(err); code == pqUniqueViolation && constraint == "bills_bill_number_key" {
		return nil, apperr.New(apperr.Conflict, "bill number %s is already taken; choose another", number)
	}
	return &bill, wrap(err, "create bill")
}

// BillChanges are the fields updateBill may change; nil leaves a field as it is.
type BillChanges struct {
	Description   *string
	Destination   *string
	VehicleNumber *string
	Capacity      *int
}

// UpdateBill changes a bill's details. A capacity below the parent bags already linked is
// CONFLICT (the bills_parent_count_range check decides, under the bill's row lock).
func (s *Store) UpdateBill(ctx context.Context, id int64, ch BillChanges) (*Bill, error) {
	if ch.Capacity != nil {
		if err := CheckBillCapacity(*ch.Capacity); err != nil {
			return nil, err
		}
	}
	if err := CheckBillDetails(ch.Description, ch.Destination, ch.VehicleNumber); err != nil {
		return nil, err
	}
	var bill Bill
	err := s.db.GetContext(ctx, &bill, `
		UPDATE bills
		SET description = coalesce($2, description), destination = coalesce($3, destination),
		    vehicle_number = coalesce($4, vehicle_number), capacity = coalesce($5, capacity),
		    updated_at = now()
		WHERE id = $1
		RETURNING `+billColumns, id, ch.Description, ch.Destination, ch.VehicleNumber, ch.Capacity)
	if code, constraint := constraintName(err); code == pqCheckViolation && constraint == "bills_parent_count_range" {
		return nil, s.capacityBelowLinked(ctx, id, *ch.Capacity)
	}
	if err != nil {
		return nil, wrap(notFoundIfNoRows(err, "no bill with this id; it may have been deleted"), "update bill")
	}
	return &bill, nil
}

// capacityBelowLinked is the CONFLICT of a capacity that would not hold the linked parents.
func (s *Store) capacityBelowLinked(ctx context.Context, id int64, capacity int) error {
	var linked int
	if err := s.db.GetContext(ctx, &linked, `SELECT parent_bag_count FROM bills WHERE id = $1`, id); err != nil {
		return wrap(err, "count parent bags of bill")
	}
	return apperr.New(apperr.Conflict, "capacity %d is below the %d parent bags already on the bill; unlink some first",
		capacity, linked)
}

// BillByNumber returns the bill with the number (any case, spaces around ignored), or nil.
func (s *Store) BillByNumber(ctx context.Context, number string) (*Bill, error) {
	var bill Bill
	err := s.reader().GetContext(ctx, &bill, `SELECT `+billColumns+` FROM bills WHERE bill_number = $1`,
		NormalizeBillNumber(number))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &bill, wrap(err, "fetch bill by number")
}

// BillWithParentBags is BillByNumber and the bill's first page of parent bags
// (ParentBagsOfBills' page: the parents the actor may see, in link order, Pos the link id) in
// one statement: a bill page asks for both. The parents hold the columns asked for (zero: all).
// A bill none of whose parents the actor sees takes a second statement for the bill alone. The
// first row carries the bill, the others NULLs.
func (s *Store) BillWithParentBags(ctx context.Context, a Actor, number string, page Page, columns BagColumns) (*Bill, *BagPage, error) {
	rows, err := s.reader().QueryContext(ctx, billWithParentBagsQuery.text(columns), NormalizeBillNumber(number), page.AfterID, page.Limit+1, a.scopeParam())
	if err != nil {
		return nil, nil, wrap(err, "fetch bill with parent bags")
	}
	defer rows.Close()
	var bill *Bill
	parents := &BagPage{Bags: make([]*Bag, 0, page.Limit+1), Positions: make([]int64, 0, page.Limit+1)}
	// the rows after the first hold NULL in the bill's columns: one place takes them all
	var skipped sql.RawBytes
	repeated := make([]any, billColumnCount)
	for i := range repeated {
		repeated[i] = &skipped
	}
	read := newBagRows(page.Limit+1, columns)
	lead := make([]any, 0, billColumnCount+1)
	var link int64
	for rows.Next() {
		billDest := repeated
		if bill == nil {
			bill = &Bill{}
			billDest = bill.fields()
		}
		parent, err := read.scan(rows, append(append(lead[:0], billDest...), &link)...)
		if err != nil {
			return nil, nil, wrap(err, "read bill with parent bags")
		}
		parents.Bags, parents.Positions = append(parents.Bags, parent), append(parents.Positions, link)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap(err, "read bill with parent bags")
	}
	if bill == nil {
		bill, err := s.BillByNumber(ctx, number)
		return bill, &BagPage{}, err
	}
	parents.Bags, parents.HasNext = trim(parents.Bags, page)
	parents.Positions = parents.Positions[:len(parents.Bags)]
	return bill, parents, nil
}

// billWithParentBagsQuery is BillWithParentBags' statement for each set of the parents'
// columns: one of the bill's page of parents a row, the bill on the first. Repeated on every
// row, the bill's columns were decoded on every row (the driver decodes every column it reads:
// 700 values, most of a bill page's allocations). PostgreSQL drops the subquery's columns
// that the outer list leaves NULL. $1 the bill number, $2 the link after which the page
// starts, $3 its rows, $4 the actor's area scope.
var billWithParentBagsQuery = byColumns[BagColumns]{build: func(columns BagColumns) string {
	return `
		SELECT ` + onFirstRow("b", billColumns) + `, l.link_id, ` + columns.read("l") + `
		FROM bills b
		CROSS JOIN LATERAL (` + parentBagsPage("b.id") + `) l
		WHERE b.bill_number = $1
		WINDOW link_order AS (ORDER BY l.link_id)
		ORDER BY l.link_id`
}}

// onFirstRow is the columns of the table alias on the first row in link_order, NULL after.
func onFirstRow(alias, columns string) string {
	names := strings.Split(qualified(alias, columns), ", ")
	for i, name := range names {
		names[i] = "CASE WHEN row_number() OVER link_order = 1 THEN " + name + " END"
	}
	return strings.Join(names, ", ")
}

// BagPage is a page of bags with each one's keyset position in its list.
type BagPage struct {
	Bags      []*Bag
	Positions []int64
	HasNext   bool
}

// CompleteBill closes a bill with at least one parent bag, as the actor (completedBy), and
// logs BILL_COMPLETED in the audit log in the same transaction. An empty or already completed
// bill is CONFLICT.
func (s *Store) CompleteBill(ctx context.Context, a Actor, id int64) (*Bill, error) {
	var bill Bill
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &bill, `
			UPDATE bills SET completed_at = now(), completed_by = $2, updated_at = now()
			WHERE id = $1 AND completed_at IS NULL
			RETURNING `+billColumns, id, a.UserID)
		if code, constraint := constraintName(err); code == pqCheckViolation && constraint == "bills_completed_not_empty" {
			return apperr.New(apperr.Conflict, "the bill has no parent bags; link at least one before completing it")
		}
		if errors.Is(err, sql.ErrNoRows) {
			return s.transitionRefused(ctx, id, "is already completed")
		}
		if err != nil {
			return wrap(err, "complete bill")
		}
		return audit(ctx, tx, auditEntry{Actor: a, Action: AuditBillCompleted, TargetType: AuditTargetBill, TargetID: &id, After: auditOfBill(&bill)})
	})
	if err != nil {
		return nil, err
	}
	return &bill, nil
}

// ReopenBill opens a completed bill again for links and unlinks, as the actor, and logs
// BILL_REOPENED (with who had completed it) in the same transaction; any other bill is CONFLICT.
func (s *Store) ReopenBill(ctx context.Context, a Actor, id int64) (*Bill, error) {
	var before, bill Bill
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &before, `SELECT `+billColumns+` FROM bills WHERE id = $1 AND completed_at IS NOT NULL FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return s.transitionRefused(ctx, id, "is not completed, so there is nothing to reopen")
		}
		if err != nil {
			return wrap(err, "lock bill")
		}
		if err := tx.GetContext(ctx, &bill, `
			UPDATE bills SET completed_at = NULL, completed_by = NULL, updated_at = now()
			WHERE id = $1
			RETURNING `+billColumns, id); err != nil {
			return wrap(err, "reopen bill")
		}
		return audit(ctx, tx, auditEntry{Actor: a, Action: AuditBillReopened, TargetType: AuditTargetBill, TargetID: &id,
			Before: auditOfBill(&before), After: auditOfBill(&bill)})
	})
	if err != nil {
		return nil, err
	}
	return &bill, nil
}

// transitionRefused explains why a status change matched no row: no such bill (NOT_FOUND)
// or a bill in the wrong status (CONFLICT).
func (s *Store) transitionRefused(ctx context.Context, id int64, why string) error {
	var number string
	err := s.db.GetContext(ctx, &number, `SELECT bill_number FROM bills WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "no bill with this id; it may have been deleted")
	}
	if err != nil {
		return wrap(err, "fetch bill")
	}
	return apperr.New(apperr.Conflict, "bill %s %s", number, why)
}

// DeleteBill deletes a bill; its parent bags stay, unbilled, and each gets a BILL_UNLINKED
// scan row (logged as the actor's). Parents are locked before the bill (the project's lock order).
func (s *Store) DeleteBill(ctx context.Context, a Actor, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var parents []*linkedBag
		if err := tx.SelectContext(ctx, &parents, `
			SELECT `+qualified("g", bagColumns)+`, bb.id AS link_id
			FROM bags g JOIN bill_bags bb ON bb.bag_id = g.id
			WHERE bb.bill_id = $1
			ORDER BY g.id
			FOR NO KEY UPDATE OF g`, id); err != nil {
			return wrap(err, "lock parent bags of bill")
		}
		if _, err := lockBill(ctx, tx, id); err != nil {
			return err
		}
		slices.SortFunc(parents, func(x, y *linkedBag) int { return cmp.Compare(x.LinkID, y.LinkID) })
		unlinked := make([]*Bag, len(parents))
		for i, p := range parents {
			unlinked[i] = &p.Bag
		}
		if err := logScans(ctx, tx, entriesFor(ScanBillUnlinked, unlinked, &id, a.UserID)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM bills WHERE id = $1`, id)
		return wrap(err, "delete bill")
	})
}

// linkedBag is a parent bag with the id of its link to a bill (the order of linking).
type linkedBag struct {
	Bag
	LinkID int64 `db:"link_id"`
}

// lockedBill is what the link and unlink transactions need of the bill they lock.
type lockedBill struct {
	BillNumber     string     `db:"bill_number"`
	Capacity       int        `db:"capacity"`
	ParentBagCount int        `db:"parent_bag_count"`
	CompletedAt    *time.Time `db:"completed_at"`
}

// lockBill locks the bill FOR UPDATE (after its parents) or reports NOT_FOUND.
func lockBill(ctx context.Context, tx *sqlx.Tx, id int64) (*lockedBill, error) {
	var b lockedBill
	err := tx.GetContext(ctx, &b, `
		SELECT bill_number, capacity, parent_bag_count, completed_at
		FROM bills WHERE id = $1
		FOR UPDATE`, id)
	if err != nil {
		return nil, wrap(notFoundIfNoRows(err, "no bill with this id; it may have been deleted"), "lock bill")
	}
	return &b, nil
}

// refuseIfCompleted is the CONFLICT of a link or unlink on a completed bill.
func (b *lockedBill) refuseIfCompleted(action string) error {
	if b.completed() {
		return errBillCompleted("no parent bags can be "+action, b.BillNumber)
	}
	return nil
}

// billByID reads a bill inside a transaction (its counters as the transaction left them).
func billByID(ctx context.Context, tx *sqlx.Tx, id int64) (*Bill, error) {
	var bill Bill
	err := tx.GetContext(ctx, &bill, `SELECT `+billColumns+` FROM bills WHERE id = $1`, id)
	return &bill, wrap(err, "fetch bill")
}

// billOfParent locks the bill the locked parent is on (after the parent: the lock order), or
// returns nil when it is on none. Holding the bill's row lock keeps completeBill from
// slipping in before this transaction commits. A parent on no bill costs no statement:
// Billed is read under the parent's lock, and every bill link or unlink takes that lock first.
func billOfParent(ctx context.Context, tx *sqlx.Tx, parent *Bag) (*lockedBill, error) {
	if !parent.Billed {
		return nil, nil
	}
	var b lockedBill
	err := tx.GetContext(ctx, &b, `
		SELECT b.bill_number, b.capacity, b.parent_bag_count, b.completed_at
		FROM bill_bags bb JOIN bills b ON b.id = bb.bill_id
		WHERE bb.bag_id = $1
		FOR NO KEY UPDATE OF b`, parent.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "lock the bill of the parent bag")
	}
	return &b, nil
}

// completed reports whether there is a bill and it is completed (frozen).
func (b *lockedBill) completed() bool {
	return b != nil && b.CompletedAt != nil
}
