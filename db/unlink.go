package db

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
)

// UnlinkChild removes a child from its parent: the child bag is deleted (no child exists
// without a parent), the log keeps its QR. It returns the parent.
func (s *Store) UnlinkChild(ctx context.Context, a Actor, childQR string) (*Bag, error) {
	code, err := childCode(childQR)
	if err != nil {
		return nil, err
	}
	var parent *Bag
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var parentQR string
		err := tx.GetContext(ctx, &parentQR, `
			SELECT p.qr FROM bags c JOIN bags p ON p.id = c.parent_id WHERE c.qr = $1`, code)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "no child bag %s", code)
		}
		if err != nil {
			return wrap(err, "find child")
		}
		parent, err = unlinkLocked(ctx, tx, a, parentQR, code)
		return err
	})
	return parent, err
}

// UndoLastChildScan unlinks the child of the caller's most recent CHILD_LINKED scan of the
// last hour (if that child is still linked) and returns its parent; nil when there is none.
func (s *Store) UndoLastChildScan(ctx context.Context, a Actor) (*Bag, error) {
	var parent *Bag
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var last struct {
			ChildQR  string `db:"child_qr"`
			ParentQR string `db:"parent_qr"`
		}
		err := tx.GetContext(ctx, &last, `
			SELECT c.qr AS child_qr, p.qr AS parent_qr
			FROM scans s
			JOIN bags c ON c.id = s.bag_id AND c.parent_id = s.parent_id
			JOIN bags p ON p.id = c.parent_id
			WHERE s.user_id = $1 AND s.kind = 'CHILD_LINKED' AND s.at > now() - interval '1 hour'
			ORDER BY s.id DESC
			LIMIT 1`, a.UserID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return wrap(err, "find the last child scan")
		}
		parent, err = unlinkLocked(ctx, tx, a, last.ParentQR, last.ChildQR)
		return err
	})
	return parent, err
}

// unlinkLocked locks the parent, checks the actor's area (FORBIDDEN naming nothing of a
// parent of another area), deletes the child if it is still in that parent, logs
// CHILD_UNLINKED, and returns the parent as it is now.
func unlinkLocked(ctx context.Context, tx *sqlx.Tx, a Actor, parentQR, childQR string) (*Bag, error) {
	parent, err := lockParent(ctx, tx, parentQR)
	if err != nil {
		return nil, err
	}
	if err := a.checkBag(parent); err != nil {
		return nil, err
	}
	var child Bag
	err = tx.GetContext(ctx, &child, `
		DELETE FROM bags WHERE qr = $1 AND parent_id = $2 RETURNING `+bagColumns, childQR, parent.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Conflict, "child %s left parent %s meanwhile; scan again", childQR, parentQR)
	}
	if err != nil {
		return nil, wrap(err, "unlink child")
	}
	if err := logScans(ctx, tx, []scanEntry{{Kind: ScanChildUnlinked, Bag: &child, ParentID: &parent.ID, UserID: a.UserID}}); err != nil {
		return nil, err
	}
	return bagByID(ctx, tx, parent.ID)
}

// DeleteBag deletes a bag: a parent with its children, a child from its parent. Every
// deleted bag is logged BAG_DELETED. A parent on a bill is refused with CONFLICT (and the
// bill_bags foreign key refuses it even under a concurrent link).
func (s *Store) DeleteBag(ctx context.Context, a Actor, rawQR string) error {
	code, err := anyCode(rawQR)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// lock the parent row first (the bag itself, or a child's parent): parents before
		// anything else is the lock order every writer follows
		var bag Bag
		err := tx.GetContext(ctx, &bag, `SELECT `+bagColumns+` FROM bags WHERE qr = $1`, code)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "no bag %s", code)
		}
		if err != nil {
			return wrap(err, "find bag")
		}
		parentID := bag.ID
		if bag.ParentID != nil {
			parentID = *bag.ParentID
		}
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM bags WHERE id = $1 FOR UPDATE`, parentID); err != nil {
			return wrap(err, "lock bag")
		}
		if err := a.checkBag(&bag); err != nil {
			return err
		}
		var billNumber string
		err = tx.GetContext(ctx, &billNumber, `
			SELECT b.bill_number FROM bill_bags bb JOIN bills b ON b.id = bb.bill_id WHERE bb.bag_id = $1`, bag.ID)
		if err == nil {
			return apperr.New(apperr.Conflict, "parent %s is on bill %s; unlink it from the bill first", code, billNumber)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return wrap(err, "check bill of bag")
		}
		return deleteWithLog(ctx, tx, a, &bag)
	})
}

// deleteWithLog deletes the bag (its children go by cascade) and logs BAG_DELETED for it
// and for each child, in one statement.
func deleteWithLog(ctx context.Context, tx *sqlx.Tx, a Actor, bag *Bag) error {
	res, err := tx.ExecContext(ctx, `
		WITH gone AS (
			DELETE FROM bags WHERE id = $1 OR parent_id = $1 RETURNING id, qr, parent_id, area_id
		)
		INSERT INTO scans (kind, bag_qr, bag_id, parent_id, user_id, area_id)
		SELECT 'BAG_DELETED', qr, id, parent_id, $2, area_id FROM gone ORDER BY id`, bag.ID, a.UserID)
	code, constraint := constraintName(err)
	if code == pqForeignKeyViolation && constraint == "bill_bags_bag_id_fkey" {
		return apperr.New(apperr.Conflict, "parent %s was just put on a bill; unlink it from the bill first", bag.QR)
	}
	if err != nil {
		return wrap(err, "delete bag")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "no bag %s (it was just removed)", bag.QR)
	}
	return nil
}

// anyCode normalises a parent or child QR, refusing malformed ones with BAD_USER_INPUT.
func anyCode(raw string) (string, error) {
	if code, err := parentCode(raw); err == nil {
		return code, nil
	}
	return childCode(raw)
}
