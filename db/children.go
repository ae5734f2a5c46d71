package db

import (
	"context"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tracetrack/qr"
)

// LinkResult is what a batch of child scans did.
type LinkResult struct {
	Parent        *Bag
	Linked        []*Bag
	AlreadyLinked []*Bag
	Rejected      []Rejection
}

// LinkChildren links a batch of child QRs to a parent in one transaction: the parent row is
// locked once, existing children are classified, and the new ones that fit are inserted with
// their CHILD_LINKED log rows in one statement. A retried batch changes and logs nothing.
// Capacity, one parent per child and unique QRs are enforced by the lock and constraints.
// A parent of an area the actor may not see is FORBIDDEN as a whole: the call returns
// nothing of it (the contract's result has a non-null parent, so there is no result).
func (s *Store) LinkChildren(ctx context.Context, a Actor, parentQR string, childQRs []string) (*LinkResult, error) {
	if err := checkBatchSize(len(childQRs), MaxChildrenPerScanBatch, "child QRs"); err != nil {
		return nil, err
	}
	code, err := s.parentCode(ctx, parentQR)
	if err != nil {
		return nil, err
	}
	codes, rejected, err := s.triageBatch(ctx, childQRs, qr.Child)
	if err != nil {
		return nil, err
	}
	result := &LinkResult{}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		parent, bill, err := lockParentForChildren(ctx, tx, a, code)
		if err != nil {
			return err
		}
		fresh, err := classifyExisting(ctx, tx, a, parent, codes, result, &rejected)
		if err != nil {
			return err
		}
		if bill.completed() {
			for _, c := range fresh {
				rejected = append(rejected, rejectBillCompleted(c, code, bill.BillNumber))
			}
			result.Parent = parent
			return nil
		}
		// A code a concurrent scan takes first leaves its place free, so the codes that did
		// not fit go in, in batch order, until the parent is full or none is left.
		room := max(0, parent.Capacity-parent.ChildCount)
		for len(fresh) > 0 && room > 0 {
			take := fresh[:min(room, len(fresh))]
			fresh = fresh[len(take):]
			linked, err := insertChildren(ctx, tx, a, parent, take, result, &rejected)
			if err != nil {
				return err
			}
			room -= linked
		}
		for _, c := range fresh {
			rejected = append(rejected, rejectParentFull(c, code, parent.Capacity))
		}
		result.Parent, err = bagByID(ctx, tx, parent.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	result.Rejected = rejected
	return result, nil
}

// existingBag is a bag of the batch that already exists, with its parent's QR.
type existingBag struct {
	Bag
	ParentQR *string `db:"parent_qr"`
}

// classifyExisting sorts out the codes that already exist (already linked here, or linked
// elsewhere) and returns the others, in batch order.
func classifyExisting(ctx context.Context, tx *sqlx.Tx, a Actor, parent *Bag, codes []string, result *LinkResult, rejected *[]Rejection) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	var existing []existingBag
	err := tx.SelectContext(ctx, &existing, `
		SELECT `+qualified("b", bagColumns)+`, p.qr AS parent_qr
		FROM bags b
		LEFT JOIN bags p ON p.id = b.parent_id
		WHERE b.qr = ANY($1)`, pq.Array(codes))
	if err != nil {
		return nil, wrap(err, "look up children")
	}
	byQR := make(map[string]*existingBag, len(existing))
	for i := range existing {
		byQR[existing[i].QR] = &existing[i]
	}
	var fresh []string
	for _, c := range codes {
		e, ok := byQR[c]
		switch {
		case !ok:
			fresh = append(fresh, c)
		case e.ParentID != nil && *e.ParentID == parent.ID:
			bag := e.Bag
			result.AlreadyLinked = append(result.AlreadyLinked, &bag)
		default:
			*rejected = append(*rejected, linkedElsewhere(a, c, e))
		}
	}
	return fresh, nil
}

// linkedElsewhere is the rejection of a code that exists outside this parent: a parent bag
// (it has no parent), or a child of another parent, named only when the actor may see it (a
// child has its parent's area).
func linkedElsewhere(a Actor, code string, e *existingBag) Rejection {
	switch {
	case e.ParentQR == nil:
		return rejectIsParent(code)
	case a.MaySeeArea(e.AreaID):
		return rejectLinkedToOther(code, e.ParentQR)
	}
	return rejectLinkedToOther(code, nil)
}

// insertChildren inserts the new children and their CHILD_LINKED rows in one statement and
// reports how many went in.
// A code another transaction inserted meanwhile is skipped by ON CONFLICT and reported as
// an existing code is (linkedElsewhere). Rows go in sorted by QR, so two batches sharing new QRs wait for each
// other in the same order instead of deadlocking; Linked keeps the scan order.
func insertChildren(ctx context.Context, tx *sqlx.Tx, a Actor, parent *Bag, codes []string, result *LinkResult, rejected *[]Rejection) (int, error) {
	sorted := slices.Sorted(slices.Values(codes))
	var inserted []*Bag
	err := tx.SelectContext(ctx, &inserted, `
		WITH inserted AS (
			INSERT INTO bags (qr, type, parent_id, area_id, created_by)
			SELECT c.qr, 'CHILD', $2, $3, $4
			FROM unnest($1::text[]) WITH ORDINALITY AS c(qr, n)
			ORDER BY c.n
			ON CONFLICT (qr) DO NOTHING
			RETURNING `+bagColumns+`
		), logged AS (
			`+scanLogInsert(`(SELECT qr, id, parent_id, NULL::bigint AS bill_id, area_id, id AS ord FROM inserted) e`,
		`'CHILD_LINKED'`, `$4::bigint`)+`
		)
		SELECT `+bagColumns+` FROM inserted ORDER BY id`,
		pq.Array(sorted), parent.ID, parent.AreaID, a.UserID)
	if err != nil {
		return 0, wrap(err, "link children")
	}
	position := make(map[string]int, len(codes))
	for i, c := range codes {
		position[c] = i
	}
	slices.SortFunc(inserted, func(a, b *Bag) int { return position[a.QR] - position[b.QR] })
	result.Linked = append(result.Linked, inserted...)
	if len(inserted) == len(codes) {
		return len(inserted), nil
	}
	done := make(map[string]bool, len(inserted))
	for _, b := range inserted {
		done[b.QR] = true
	}
	var skipped []string
	for _, c := range codes {
		if !done[c] {
			skipped = append(skipped, c)
		}
	}
	// The concurrent scan has committed (ON CONFLICT waited for it), so this statement sees
	// where the code went: told as if it had been there before, the parent named when the
	// actor may see it. A code gone again meanwhile (unlinked) is only said to be taken.
	gone, err := classifyExisting(ctx, tx, a, parent, skipped, result, rejected)
	for _, c := range gone {
		*rejected = append(*rejected, rejectTakenMeanwhile(c))
	}
	return len(inserted), err
}
