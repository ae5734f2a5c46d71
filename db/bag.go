package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
	"tracetrack/qr"
)

// BagByQR returns the bag with the QR (normalised here; a malformed QR is BAD_USER_INPUT), or
// nil when there is none. A bag of an area the actor may not see is FORBIDDEN (naming
// nothing of it).
func (s *Store) BagByQR(ctx context.Context, a Actor, rawQR string) (*Bag, error) {
	code, err := s.anyCode(ctx, rawQR)
	if err != nil {
		return nil, err
	}
	var bag Bag
	err = s.db.GetContext(ctx, &bag, `SELECT `+bagColumns+` FROM bags WHERE qr = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "fetch bag")
	}
	if err := a.checkBag(&bag); err != nil {
		return nil, err
	}
	return &bag, nil
}

// BagWithChildren is BagByQR and the bag's first page of children (ChildrenOfParents' page)
// in one statement: a bag tree asks for both. Children is up to page.Limit children the actor
// may see, oldest link first, holding the columns asked for (zero: all), and HasNext tells that
// more follow; a child bag has none.
func (s *Store) BagWithChildren(ctx context.Context, a Actor, rawQR string, page Page, columns BagColumns) (*Bag, []*Bag, bool, error) {
	code, err := s.anyCode(ctx, rawQR)
	if err != nil {
		return nil, nil, false, err
	}
	rows, err := s.db.QueryContext(ctx, bagWithChildrenQuery.text(columns), code, page.AfterID, page.Limit+1, a.scopeParam())
	if err != nil {
		return nil, nil, false, wrap(err, "fetch bag with children")
	}
	defer rows.Close()
	bags := make([]*Bag, 0, page.Limit+2)
	var depth int
	read := newBagRows(page.Limit+2, 0)
	for rows.Next() {
		bag, err := read.scan(rows, &depth)
		if err != nil {
			return nil, nil, false, wrap(err, "read bag with children")
		}
		bags = append(bags, bag)
		read.columns = columns // the bag's row comes first, whole; its children follow
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, wrap(err, "read bag with children")
	}
	if len(bags) == 0 {
		return nil, nil, false, nil
	}
	if err := a.checkBag(bags[0]); err != nil {
		return nil, nil, false, err
	}
	children, more := trim(bags[1:], page)
	return bags[0], children, more, nil
}

// bagWithChildrenQuery is BagWithChildren's statement for each set of the children's
// columns: the bag (depth 0, every column), then its page of children (depth 1). $1 the QR,
// $2 the position after which the page starts, $3 its rows, $4 the actor's area scope.
var bagWithChildrenQuery = byColumns[BagColumns]{build: func(columns BagColumns) string {
	return `
		WITH bag AS (SELECT ` + bagColumns + ` FROM bags WHERE qr = $1)
		SELECT 0 AS depth, ` + bagColumns + ` FROM bag
		UNION ALL
		SELECT 1, ` + columns.read("c") + `
		FROM bag CROSS JOIN LATERAL (` + childrenPage("bag.id") + `) c
		ORDER BY depth, id`
}}

// ScanParent registers the parent bag if it is new (in the scanning user's area; none for
// admins and billers) and logs PARENT_SCANNED, in one statement. A parent of an area the
// actor may not see is FORBIDDEN and nothing is logged (a new parent is always in the actor's
// own scope, so a refused scan never inserts).
func (s *Store) ScanParent(ctx context.Context, a Actor, rawQR string, capacity int) (*Bag, error) {
	code, err := s.parentCode(ctx, rawQR)
	if err != nil {
		return nil, err
	}
	var bag Bag
	err = s.db.GetContext(ctx, &bag, scanParentSQL, code, a.AreaID, capacity, a.UserID, a.scopeParam())
	if errors.Is(err, sql.ErrNoRows) {
		// another scan of the same new parent inserted it first: ON CONFLICT waited for its
		// commit and inserted nothing, and this statement's snapshot, taken before that
		// commit, does not see the bag; the next statement's does (a double scan, a retry
		// racing its first try, two stations). Nothing was logged.
		err = s.db.GetContext(ctx, &bag, scanParentSQL, code, a.AreaID, capacity, a.UserID, a.scopeParam())
	}
	if err != nil {
		return nil, wrap(err, "register parent bag")
	}
	s.afterCommit()
	if err := a.checkBag(&bag); err != nil {
		return nil, err
	}
	return &bag, nil
}

// scanParentSQL inserts the parent $1 or finds it, and logs PARENT_SCANNED when it is in the
// actor's scope ($5).
var scanParentSQL = `
	WITH inserted AS (
		INSERT INTO bags (qr, type, area_id, capacity, created_by)
		VALUES ($1, 'PARENT', $2, $3, $4)
		ON CONFLICT (qr) DO NOTHING
		RETURNING ` + bagColumns + `
	), bag AS (
		SELECT ` + bagColumns + ` FROM inserted
		UNION ALL
		SELECT ` + bagColumns + ` FROM bags WHERE qr = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
	), logged AS (
		` + scanLogInsert(`(SELECT qr, id, parent_id, NULL::bigint AS bill_id, area_id, id AS ord FROM bag
			WHERE $5::bigint IS NULL OR area_id = $5) e`, `'PARENT_SCANNED'`, `$4::bigint`) + `
	)
	SELECT ` + bagColumns + ` FROM bag`

// parentCode normalises a parent QR, refusing anything else with BAD_USER_INPUT.
func (s *Store) parentCode(ctx context.Context, raw string) (string, error) {
	return s.codeOfKind(ctx, raw, qr.Parent, func(rules qr.Rules) string {
		return "that is a child QR; scan a parent bag here (" + rules.ParentFormats() + ")"
	})
}

// childCode normalises a child QR, refusing anything else with BAD_USER_INPUT.
func (s *Store) childCode(ctx context.Context, raw string) (string, error) {
	return s.codeOfKind(ctx, raw, qr.Child, func(qr.Rules) string {
		return "that is a parent QR; use deleteBag to remove a parent bag"
	})
}

// codeOfKind normalises a QR of the kind a single-bag call wants; a QR of the other kind is
// BAD_USER_INPUT saying wrongKind (without the QR: it may be another area's bag), a malformed
// one names the formats.
func (s *Store) codeOfKind(ctx context.Context, raw string, want qr.Kind, wrongKind func(qr.Rules) string) (string, error) {
	rules, err := s.QRRules(ctx)
	if err != nil {
		return "", err
	}
	code := qr.Normalize(raw)
	switch rules.Classify(code) {
	case want:
		return code, nil
	case qr.Invalid:
		return "", apperr.New(apperr.BadUserInput, "%s is not a valid QR: %s", scalar.Quote(code), rules.Describe())
	}
	return "", apperr.New(apperr.BadUserInput, "%s", wrongKind(rules))
}

// lockParentForChildren locks the parent with the QR for a change of its children, refuses it
// when the actor may not see it, and locks its bill (nil: none) so a completed bill stays
// frozen until this transaction ends: the start of every child link and unlink.
func lockParentForChildren(ctx context.Context, tx *sqlx.Tx, a Actor, code string) (*Bag, *lockedBill, error) {
	parent, err := lockParent(ctx, tx, code)
	if err != nil {
		return nil, nil, err
	}
	return admitChildChange(ctx, tx, a, parent)
}

// admitChildChange refuses the locked parent when the actor may not see it, and locks its
// bill (nil: none).
func admitChildChange(ctx context.Context, tx *sqlx.Tx, a Actor, parent *Bag) (*Bag, *lockedBill, error) {
	if err := a.checkBag(parent); err != nil {
		return nil, nil, err
	}
	bill, err := billOfParent(ctx, tx, parent)
	if err != nil {
		return nil, nil, err
	}
	return parent, bill, nil
}

// lockParent locks the parent bag with the QR for a change of its children. FOR NO KEY
// UPDATE leaves foreign-key checks of concurrent bill links free to proceed.
func lockParent(ctx context.Context, tx *sqlx.Tx, code string) (*Bag, error) {
	var parent Bag
	err := tx.GetContext(ctx, &parent, `SELECT `+bagColumns+` FROM bags WHERE qr = $1 AND type = 'PARENT' FOR NO KEY UPDATE`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "no parent bag %s; scan it with scanParent first", code)
	}
	if err != nil {
		return nil, wrap(err, "lock parent bag")
	}
	return &parent, nil
}

// bagByIDSQL reads a bag by id.
var bagByIDSQL = `SELECT ` + bagColumns + ` FROM bags WHERE id = $1`

// bagByID reads a bag that exists by id inside the transaction, after triggers have updated
// its counters. bagRows reads it; sqlx's mapping by reflection cost more than the read.
func bagByID(ctx context.Context, tx *sqlx.Tx, id int64) (*Bag, error) {
	rows, err := tx.QueryContext(ctx, bagByIDSQL, id)
	if err != nil {
		return nil, wrap(err, "fetch bag")
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "fetch bag")
		}
		return nil, wrap(sql.ErrNoRows, "fetch bag")
	}
	bag, err := newBagRows(1, 0).scan(rows)
	return bag, wrap(err, "fetch bag")
}

// DeleteBag deletes a bag: a parent with its children, a child from its parent. Every
// deleted bag is logged BAG_DELETED. A parent on a bill is refused with CONFLICT (and the
// bill_bags foreign key refuses it even under a concurrent link), and so is a child of a
// parent on a completed bill (frozen until reopened).
func (s *Store) DeleteBag(ctx context.Context, a Actor, rawQR string) error {
	code, err := s.anyCode(ctx, rawQR)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		bag, parent, err := lockBagForDelete(ctx, tx, code)
		if err != nil {
			return err
		}
		if err := a.checkBag(bag); err != nil {
			return err
		}
		bill, err := billOfParent(ctx, tx, parent)
		if err != nil {
			return err
		}
		switch {
		case bill == nil:
		case bag.ID == parent.ID && bill.completed():
			return errBillCompleted(fmt.Sprintf("parent %s stays on bill %s", code, bill.BillNumber), bill.BillNumber)
		case bag.ID == parent.ID:
			return apperr.New(apperr.Conflict, "parent %s is on bill %s; unlink it from the bill first", code, bill.BillNumber)
		case bill.completed():
			return errBillCompleted(fmt.Sprintf("child %s stays in parent %s", code, parent.QR), bill.BillNumber)
		}
		return deleteWithLog(ctx, tx, a, bag)
	})
}

// lockBagForDelete finds the bag and locks its parent row (the bag itself, or a child's
// parent): parents before anything else is the lock order every writer follows.
func lockBagForDelete(ctx context.Context, tx *sqlx.Tx, code string) (bag, parent *Bag, err error) {
	var found Bag
	err = tx.GetContext(ctx, &found, `SELECT `+bagColumns+` FROM bags WHERE qr = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, apperr.New(apperr.NotFound, "no bag %s", code)
	}
	if err != nil {
		return nil, nil, wrap(err, "find bag")
	}
	parentID := found.ID
	if found.ParentID != nil {
		parentID = *found.ParentID
	}
	var locked Bag
	err = tx.GetContext(ctx, &locked, `SELECT `+bagColumns+` FROM bags WHERE id = $1 FOR UPDATE`, parentID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, apperr.New(apperr.NotFound, "no bag %s (it was just removed)", code)
	}
	if err != nil {
		return nil, nil, wrap(err, "lock bag")
	}
	if found.ID == parentID {
		return &locked, &locked, nil
	}
	return &found, &locked, nil
}

// deleteWithLog deletes the bag (its children go by cascade) and logs BAG_DELETED for it
// and for each child.
func deleteWithLog(ctx context.Context, tx *sqlx.Tx, a Actor, bag *Bag) error {
	var gone []*Bag
	err := tx.SelectContext(ctx, &gone, `
		DELETE FROM bags WHERE id = $1 OR parent_id = $1 RETURNING `+bagColumns, bag.ID)
	code, constraint := constraintName(err)
	if code == pqForeignKeyViolation && constraint == "bill_bags_bag_id_fkey" {
		return apperr.New(apperr.Conflict, "parent %s was just put on a bill; unlink it from the bill first", bag.QR)
	}
	if err != nil {
		return wrap(err, "delete bag")
	}
	if len(gone) == 0 {
		return apperr.New(apperr.NotFound, "no bag %s (it was just removed)", bag.QR)
	}
	slices.SortFunc(gone, func(x, y *Bag) int { return cmp.Compare(x.ID, y.ID) })
	return logScans(ctx, tx, entriesFor(ScanBagDeleted, gone, nil, a.UserID))
}

// anyCode normalises a parent or child QR, refusing malformed ones with BAD_USER_INPUT.
func (s *Store) anyCode(ctx context.Context, raw string) (string, error) {
	if code, err := s.parentCode(ctx, raw); err == nil {
		return code, nil
	}
	return s.childCode(ctx, raw)
}

// BagByID returns the bag with the id, or nil when there is none. A bag of an area the actor
// may not see is FORBIDDEN (naming nothing of it), as in BagByQR.
func (s *Store) BagByID(ctx context.Context, a Actor, id int64) (*Bag, error) {
	var bags []*Bag
	err := s.db.SelectContext(ctx, &bags, `SELECT `+bagColumns+` FROM bags WHERE id = $1`, id)
	if err != nil || len(bags) == 0 {
		return nil, wrap(err, "fetch bag")
	}
	if err := a.checkBag(bags[0]); err != nil {
		return nil, err
	}
	return bags[0], nil
}
