package db

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tracetrack/apperr"
	"tracetrack/qr"
)

// BillLinkResult is what one linkBagsToBill call did, QR by QR.
type BillLinkResult struct {
	Bill          *Bill
	Linked        []*Bag
	AlreadyLinked []*Bag
	Rejected      []Rejection
}

// LinkBagsToBill links parent bags to a bill, each QR on its own: linked, already on this
// bill, or rejected with a code. It runs a fixed number of statements whatever the batch size:
// parents are locked by id (FOR NO KEY UPDATE) before the bill (FOR UPDATE), so capacity and
// "one bill per parent" are decided under locks, with the check constraint and the unique
// bill_bags.bag_id as the database's backstop. A parent of an area the actor may not see is
// rejected FORBIDDEN_AREA, and nothing of it is returned.
func (s *Store) LinkBagsToBill(ctx context.Context, a Actor, billID int64, qrs []string) (*BillLinkResult, error) {
	if err := checkBatchSize(len(qrs), MaxLinkBatch, "parent QRs"); err != nil {
		return nil, err
	}
	lookup, rejected, err := s.triageBatch(ctx, qrs, qr.Parent)
	if err != nil {
		return nil, err
	}
	res := &BillLinkResult{Rejected: rejected}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		parents, err := lockParentsByQR(ctx, tx, lookup)
		if err != nil {
			return err
		}
		lookup = res.sortOutForbidden(a, lookup, parents)
		bill, err := lockBill(ctx, tx, billID)
		if err != nil {
			return err
		}
		if err := bill.refuseIfCompleted("linked"); err != nil {
			return err
		}
		missing, err := rejectMissingParents(ctx, tx, lookup, parents)
		if err != nil {
			return err
		}
		res.Rejected = append(res.Rejected, missing...)
		candidates, err := res.sortOutBilled(ctx, tx, billID, lookup, parents)
		if err != nil {
			return err
		}
		if free := bill.Capacity - bill.ParentBagCount; len(candidates) > free {
			for _, p := range candidates[max(free, 0):] {
				res.Rejected = append(res.Rejected, rejectBillFull(p.QR, bill.BillNumber, bill.Capacity))
			}
			candidates = candidates[:max(free, 0)]
		}
		if err := res.insertLinks(ctx, tx, billID, candidates, a.UserID); err != nil {
			return err
		}
		res.Bill, err = billByID(ctx, tx, billID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// lockParentsByQR locks the parent bags with the QRs in id order and returns them by QR.
func lockParentsByQR(ctx context.Context, tx *sqlx.Tx, qrs []string) (map[string]*Bag, error) {
	var bags []*Bag
	err := tx.SelectContext(ctx, &bags, `
		SELECT `+bagColumns+`
		FROM bags
		WHERE qr = ANY($1) AND type = 'PARENT'
		ORDER BY id
		FOR NO KEY UPDATE`, pq.Array(qrs))
	if err != nil {
		return nil, wrap(err, "lock parent bags")
	}
	byQR := make(map[string]*Bag, len(bags))
	for _, b := range bags {
		byQR[b.QR] = b
	}
	return byQR, nil
}

// sortOutForbidden rejects the parents the actor may not see and returns the other QRs;
// they leave parents too, so nothing later looks at them or names them.
func (r *BillLinkResult) sortOutForbidden(a Actor, qrs []string, parents map[string]*Bag) []string {
	var rest []string
	for _, qr := range qrs {
		if p := parents[qr]; p != nil && !a.MaySeeArea(p.AreaID) {
			delete(parents, qr)
			r.Rejected = append(r.Rejected, rejectForbiddenArea(qr))
			continue
		}
		rest = append(rest, qr)
	}
	return rest
}

// rejectMissingParents rejects the QRs that are no parent: children (IS_CHILD) and unknown
// QRs (NOT_FOUND), in call order.
func rejectMissingParents(ctx context.Context, tx *sqlx.Tx, qrs []string, parents map[string]*Bag) ([]Rejection, error) {
	var missing []string
	for _, qr := range qrs {
		if parents[qr] == nil {
			missing = append(missing, qr)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	var children []string
	if err := tx.SelectContext(ctx, &children, `SELECT qr FROM bags WHERE qr = ANY($1)`, pq.Array(missing)); err != nil {
		return nil, wrap(err, "look up non-parent QRs")
	}
	isChild := make(map[string]bool, len(children))
	for _, qr := range children {
		isChild[qr] = true
	}
	rejected := make([]Rejection, len(missing))
	for i, qr := range missing {
		if isChild[qr] {
			rejected[i] = rejectIsChild(qr)
		} else {
			rejected[i] = rejectNoParent(qr)
		}
	}
	return rejected, nil
}

// sortOutBilled files parents already on a bill (this one: already linked; another:
// ON_OTHER_BILL naming it) and returns the rest, in call order.
func (r *BillLinkResult) sortOutBilled(ctx context.Context, tx *sqlx.Tx, billID int64, qrs []string, parents map[string]*Bag) ([]*Bag, error) {
	ids := make([]int64, 0, len(parents))
	for _, p := range parents {
		ids = append(ids, p.ID)
	}
	var links []struct {
		BagID      int64  `db:"bag_id"`
		BillID     int64  `db:"bill_id"`
		BillNumber string `db:"bill_number"`
	}
	err := tx.SelectContext(ctx, &links, `
		SELECT bb.bag_id, bb.bill_id, b.bill_number
		FROM bill_bags bb JOIN bills b ON b.id = bb.bill_id
		WHERE bb.bag_id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, wrap(err, "fetch bills of parent bags")
	}
	onBill := make(map[int64]string, len(links))
	for _, l := range links {
		if l.BillID == billID {
			onBill[l.BagID] = ""
		} else {
			onBill[l.BagID] = l.BillNumber
		}
	}
	var candidates []*Bag
	for _, qr := range qrs {
		p := parents[qr]
		if p == nil {
			continue
		}
		switch other, billed := onBill[p.ID]; {
		case !billed:
			candidates = append(candidates, p)
		case other == "":
			r.AlreadyLinked = append(r.AlreadyLinked, p)
		default:
			r.Rejected = append(r.Rejected, rejectOnOtherBill(qr, other))
		}
	}
	return candidates, nil
}

// insertLinks links the candidates in call order and logs a BILL_LINKED scan for each, in
// one statement.
func (r *BillLinkResult) insertLinks(ctx context.Context, tx *sqlx.Tx, billID int64, candidates []*Bag, userID *int64) error {
	if len(candidates) == 0 {
		return nil
	}
	ids := make([]int64, len(candidates))
	for i, p := range candidates {
		ids[i] = p.ID
	}
	var inserted []int64
	err := tx.SelectContext(ctx, &inserted, `
		WITH linked AS (
			INSERT INTO bill_bags (bag_id, bill_id, linked_by)
			SELECT u.id, $2, $3
			FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord)
			ORDER BY u.ord
			ON CONFLICT (bag_id) DO NOTHING
			RETURNING id, bag_id
		), logged AS (
			`+scanLogInsert(`(SELECT g.qr, g.id, g.parent_id, $2::bigint AS bill_id, g.area_id, l.id AS ord
				FROM linked l JOIN bags g ON g.id = l.bag_id) e`, `'BILL_LINKED'`, `$3::bigint`)+`
		)
		SELECT bag_id FROM linked`, pq.Array(ids), billID, userID)
	if code, constraint := constraintName(err); code == pqCheckViolation && constraint == "bills_parent_count_range" {
		return apperr.New(apperr.Conflict, "the bill filled up while linking; try again")
	}
	if err != nil {
		return wrap(err, "link parent bags")
	}
	done := make(map[int64]bool, len(inserted))
	for _, id := range inserted {
		done[id] = true
	}
	for _, p := range candidates {
		if done[p.ID] {
			r.Linked = append(r.Linked, p)
		} else {
			r.Rejected = append(r.Rejected, rejectOnOtherBillMeanwhile(p.QR))
		}
	}
	return nil
}

// UnlinkBagFromBill takes a parent bag off a bill and logs BILL_UNLINKED. An unknown QR,
// a bag not on this bill: NOT_FOUND; a completed bill: CONFLICT; a parent of an area the
// actor may not see: FORBIDDEN.
func (s *Store) UnlinkBagFromBill(ctx context.Context, a Actor, billID int64, rawQR string) (*Bill, error) {
	code := qr.Normalize(rawQR)
	var bill *Bill
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		parents, err := lockParentsByQR(ctx, tx, []string{code})
		if err != nil {
			return err
		}
		locked, err := lockBill(ctx, tx, billID)
		if err != nil {
			return err
		}
		if err := locked.refuseIfCompleted("unlinked"); err != nil {
			return err
		}
		p := parents[code]
		if p == nil {
			return apperr.New(apperr.NotFound, "no parent bag %s", code)
		}
		if err := a.checkBag(p); err != nil {
			return err
		}
		var unlinked int
		err = tx.GetContext(ctx, &unlinked, `
			WITH unlinked AS (
				DELETE FROM bill_bags WHERE bag_id = $1 AND bill_id = $2 RETURNING bag_id
			), logged AS (
				`+scanLogInsert(`(SELECT g.qr, g.id, g.parent_id, $2::bigint AS bill_id, g.area_id, g.id AS ord
					FROM unlinked u JOIN bags g ON g.id = u.bag_id) e`, `'BILL_UNLINKED'`, `$3::bigint`)+`
			)
			SELECT count(*) FROM unlinked`, p.ID, billID, a.UserID)
		if err != nil {
			return wrap(err, "unlink parent bag")
		}
		if unlinked == 0 {
			return apperr.New(apperr.NotFound, "parent bag %s is not on bill %s", code, locked.BillNumber)
		}
		bill, err = billByID(ctx, tx, billID)
		return err
	})
	return bill, err
}
