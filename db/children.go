package db

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tracetrack/qr"
)

// Rejection is a QR of a batch that was not linked, with a contract code and a message.
type Rejection struct {
	QR      string
	Code    string
	Message string
}

// Rejection codes of scanChildren and linkBagsToBill (the contract's ScanRejection.code).
const (
	RejectInvalidQR         = "INVALID_QR"
	RejectIsParent          = "IS_PARENT"
	RejectIsChild           = "IS_CHILD"
	RejectLinkedToOther     = "LINKED_TO_OTHER_PARENT"
	RejectParentFull        = "PARENT_FULL"
	RejectOnOtherBill       = "ON_OTHER_BILL"
	RejectBillFull          = "BILL_FULL"
	RejectNotFound          = "NOT_FOUND"
	RejectDuplicateInBatch  = "DUPLICATE_IN_BATCH"
	RejectForbiddenArea     = "FORBIDDEN_AREA"
	MaxChildrenPerScanBatch = 30
)

// LinkResult is what a batch of child scans did.
type LinkResult struct {
	Parent        *Bag
	Linked        []*Bag
	AlreadyLinked []*Bag
	Rejected      []Rejection
}

// triageCodes normalises a batch and rejects what can be told without the database:
// malformed QRs, codes of the wrong kind, and repeats within the batch. It returns the
// codes left, in batch order.
func triageCodes(raws []string, want qr.Kind, wrongKind Rejection) ([]string, []Rejection) {
	var codes []string
	var rejected []Rejection
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		code := qr.Normalize(raw)
		switch kind := qr.Classify(code); {
		case kind == qr.Invalid:
			rejected = append(rejected, Rejection{code, RejectInvalidQR, fmt.Sprintf("%q is not a valid QR: %s", code, qr.Describe)})
		case kind != want:
			rejected = append(rejected, Rejection{code, wrongKind.Code, fmt.Sprintf(wrongKind.Message, code)})
		case seen[code]:
			rejected = append(rejected, Rejection{code, RejectDuplicateInBatch, code + " appears more than once in this batch; it was handled once"})
		default:
			seen[code] = true
			codes = append(codes, code)
		}
	}
	return codes, rejected
}

// LinkChildren links a batch of child QRs to a parent in one transaction: the parent row is
// locked once, existing children are classified, and the new ones that fit are inserted with
// their CHILD_LINKED log rows in one statement. A retried batch changes and logs nothing.
// Capacity, one parent per child and unique QRs are enforced by the lock and constraints.
// A parent of an area the actor may not see is FORBIDDEN as a whole: the call returns
// nothing of it (the contract's result has a non-null parent, so there is no result).
func (s *Store) LinkChildren(ctx context.Context, a Actor, parentQR string, childQRs []string) (*LinkResult, error) {
	code, err := parentCode(parentQR)
	if err != nil {
		return nil, err
	}
	codes, rejected := triageCodes(childQRs, qr.Child,
		Rejection{Code: RejectIsParent, Message: "%s is a parent QR; only child bags go into a parent"})
	result := &LinkResult{}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		parent, err := lockParent(ctx, tx, code)
		if err != nil {
			return err
		}
		if err := a.checkBag(parent); err != nil {
			return err
		}
		fresh, err := classifyExisting(ctx, tx, a, parent, codes, result, &rejected)
		if err != nil {
			return err
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
			rejected = append(rejected, Rejection{c, RejectParentFull, fmt.Sprintf("parent %s is full (%d of %d)", code, parent.Capacity, parent.Capacity)})
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
		SELECT b.id, b.qr, b.type, b.status, b.area_id, b.parent_id, b.child_count, b.capacity,
		       b.created_by, b.created_at, b.updated_at, p.qr AS parent_qr
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

// linkedElsewhere is the rejection of a code that exists outside this parent. The other
// parent is named only when the actor may see it (a child has its parent's area).
func linkedElsewhere(a Actor, code string, e *existingBag) Rejection {
	switch {
	case e.ParentQR == nil:
		return Rejection{code, RejectIsParent, code + " is a parent bag"}
	case a.MaySeeArea(e.AreaID):
		return Rejection{code, RejectLinkedToOther, fmt.Sprintf("%s is already in parent %s; unlink it there first", code, *e.ParentQR)}
	}
	return Rejection{code, RejectLinkedToOther, code + " is already in a parent bag of another dispatch area; it cannot go into this one"}
}

// insertChildren inserts the new children and their CHILD_LINKED rows in one statement and
// reports how many went in.
// A code another transaction inserted meanwhile is skipped by ON CONFLICT and reported as
// linked elsewhere. Rows go in sorted by QR, so two batches sharing new QRs wait for each
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
			INSERT INTO scans (kind, bag_qr, bag_id, parent_id, user_id, area_id)
			SELECT 'CHILD_LINKED', qr, id, parent_id, $4, area_id FROM inserted ORDER BY id
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
	for _, c := range codes {
		if !done[c] {
			*rejected = append(*rejected, Rejection{c, RejectLinkedToOther, c + " was just linked to another parent by a concurrent scan"})
		}
	}
	return len(inserted), nil
}
