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
// parent of another area) and the parent's bill (a completed bill is frozen: CONFLICT),
// deletes the child if it is still in that parent, logs CHILD_UNLINKED, and returns the
// parent as it is now.
func unlinkLocked(ctx context.Context, tx *sqlx.Tx, a Actor, parentQR, childQR string) (*Bag, error) {
	parent, bill, err := lockParentForChildren(ctx, tx, a, parentQR)
	if err != nil {
		return nil, err
	}
	if bill.completed() {
		return nil, errBillCompleted(fmt.Sprintf("child %s stays in parent %s", childQR, parentQR), bill.BillNumber)
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
