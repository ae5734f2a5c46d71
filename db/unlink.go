package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
)

// UnlinkChild removes a child from its parent: the child bag is deleted (no child exists
// without a parent), the log keeps its QR. It returns the parent.
func (s *Store) UnlinkChild(ctx context.Context, a Actor, childQR string) (*Bag, error) {
	code, err := s.childCode(ctx, childQR)
	if err != nil {
		return nil, err
	}
	var parent *Bag
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var locked Bag
		err := tx.GetContext(ctx, &locked, `
			SELECT `+qualified("p", bagColumns)+`
			FROM bags c JOIN bags p ON p.id = c.parent_id
			WHERE c.qr = $1
			FOR NO KEY UPDATE OF p`, code)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "no child bag %s", code)
		}
		if err != nil {
			return wrap(err, "lock the parent of the child")
		}
		_, bill, err := admitChildChange(ctx, tx, a, &locked)
		if err != nil {
			return err
		}
		parent, err = unlinkAdmitted(ctx, tx, a, &locked, bill, code)
		return err
	})
	return parent, err
}

// UndoResult is what undoLastChildScan did: the parent as it is now, and the child removed.
type UndoResult struct {
	Parent    *Bag
	RemovedQR string
}

// UndoLastChildScan unlinks the child of the caller's most recent CHILD_LINKED scan of the
// last hour (if that child is still linked) and says which; nil when there is none.
func (s *Store) UndoLastChildScan(ctx context.Context, a Actor) (*UndoResult, error) {
	var undone *UndoResult
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
		parent, err := unlinkLocked(ctx, tx, a, last.ParentQR, last.ChildQR)
		if err != nil {
			return err
		}
		undone = &UndoResult{Parent: parent, RemovedQR: last.ChildQR}
		return nil
	})
	return undone, err
}

// unlinkLocked locks the parent, checks the actor's area (FORBIDDEN naming nothing of a
// parent of another area) and the parent's bill, and unlinks the child (unlinkAdmitted).
func unlinkLocked(ctx context.Context, tx *sqlx.Tx, a Actor, parentQR, childQR string) (*Bag, error) {
	parent, bill, err := lockParentForChildren(ctx, tx, a, parentQR)
	if err != nil {
		return nil, err
	}
	return unlinkAdmitted(ctx, tx, a, parent, bill, childQR)
}

// unlinkAdmitted refuses the unlink when the locked parent's bill is completed (frozen:
// CONFLICT), deletes the child if it is still in that parent and logs CHILD_UNLINKED in one
// statement, and returns the parent as it is now.
func unlinkAdmitted(ctx context.Context, tx *sqlx.Tx, a Actor, parent *Bag, bill *lockedBill, childQR string) (*Bag, error) {
	if bill.completed() {
		return nil, errBillCompleted(fmt.Sprintf("child %s stays in parent %s", childQR, parent.QR), bill.BillNumber)
	}
	var child Bag
	err := tx.GetContext(ctx, &child, `
		WITH deleted AS (
			DELETE FROM bags WHERE qr = $1 AND parent_id = $2 RETURNING `+bagColumns+`
		), logged AS (
			`+scanLogInsert(`(SELECT qr, id, parent_id, NULL::bigint AS bill_id, area_id, id AS ord FROM deleted) e`,
		`'CHILD_UNLINKED'`, `$3::bigint`)+`
		)
		SELECT `+bagColumns+` FROM deleted`, childQR, parent.ID, a.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Conflict, "child %s left parent %s meanwhile; scan again", childQR, parent.QR)
	}
	if err != nil {
		return nil, wrap(err, "unlink child")
	}
	return bagByID(ctx, tx, parent.ID)
}
