package db

import (
	"context"
	"database/sql"
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

// LinkChildren links a batch of child QRs to a parent. The usual batch is one statement
// (linkChildrenAtOnce): the parent row is locked, existing children are classified, and the
// new ones that fit are inserted with their CHILD_LINKED log rows. Whatever that statement
// cannot settle on its own (no such parent, another area's, a completed bill, a parent changed
// while the statement waited for its lock, a new code a concurrent scan inserted first) it
// leaves untouched, and the batch runs as a transaction of several statements instead
// (linkChildrenInTx). A retried batch changes and
// logs nothing. Capacity, one parent per child and unique QRs are enforced by the lock and
// constraints. A parent of an area the actor may not see is FORBIDDEN as a whole: the call
// returns nothing of it (the contract's result has a non-null parent, so there is no result).
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
	result, err := s.linkChildrenAtOnce(ctx, a, code, codes)
	switch {
	case err != nil:
		return nil, err
	case result == nil:
		return s.linkChildrenInTx(ctx, a, code, codes, &LinkResult{Rejected: rejected})
	}
	result.Rejected = append(rejected, result.Rejected...)
	return result, nil
}

// linkChildrenInTx links the codes to the parent in one transaction of a few statements, adding
// to result (Rejected holds the rejections so far): the parent row is locked once, existing
// children are classified, and the new ones that fit are inserted with their CHILD_LINKED log
// rows in one statement.
func (s *Store) linkChildrenInTx(ctx context.Context, a Actor, code string, codes []string, result *LinkResult) (*LinkResult, error) {
	rejected := result.Rejected
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
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

// linkChildrenAtOnceSQL is the whole of a usual child batch in one statement, committed on its
// own: $1 the parent's QR, $2 the codes in batch order, $3 the user, $4 the actor's area scope.
// Each row of its answer is the parent (role "parent", with whether the statement's snapshot saw
// the version it locked and whether its bill is completed), a code of the batch that already
// exists ("existing", with its parent's QR) or a child it linked ("linked"), the bag's columns
// last. The parent row is the one the bags trigger leaves once the statement ends (its update
// of the parent comes after the statement, so the statement cannot read it): the locked row
// with child_count moved by the children inserted, updated_at now() when there are any, and the
// status that the generated column computes from those (tt_bag_status, migration 00024). That
// spares the batch a read of the parent after the statement (a round trip and a statement);
// TestBatchParentIsTheStoredParent holds it to the stored row.
// It inserts only when the parent exists, is in the actor's scope, is on no completed bill, and
// the version it locked is the one its snapshot saw ("current": no child of the parent and no
// bill link of it changed while it waited for the lock, since each of those updates the parent
// row). Then everything it read (the existing codes, the room) is as of that lock. The parent
// is locked before its bill: the lock order.
var linkChildrenAtOnceSQL = `
	WITH parent AS (
		SELECT ` + bagColumns + `, xmin AS version
		FROM bags WHERE qr = $1 AND type = 'PARENT'
		FOR NO KEY UPDATE
	), bill AS (
		SELECT b.completed_at IS NOT NULL AS completed
		FROM parent p JOIN bill_bags bb ON bb.bag_id = p.id JOIN bills b ON b.id = bb.bill_id
		FOR NO KEY UPDATE OF b
	), checked AS (
		SELECT p.*, p.version = (SELECT xmin FROM bags WHERE id = p.id) AS current FROM parent p
	), open AS (
		SELECT * FROM checked
		WHERE current AND ($4::bigint IS NULL OR area_id = $4) AND NOT EXISTS (SELECT 1 FROM bill WHERE completed)
	), existing AS (
		SELECT ` + qualified("b", bagColumns) + `, p.qr AS parent_qr
		FROM bags b LEFT JOIN bags p ON p.id = b.parent_id
		WHERE b.qr = ANY($2)
	), taken AS (
		SELECT c.qr FROM unnest($2::text[]) WITH ORDINALITY AS c(qr, n)
		WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.qr = c.qr)
		ORDER BY c.n
		LIMIT (SELECT coalesce(max(greatest(capacity - child_count, 0)), 0) FROM open)
	), ` + insertChildrenCTEs(`taken c CROSS JOIN open o`, `o.id`, `o.area_id`, `$3::bigint`, false) + `
	SELECT 'parent' AS role, NULL AS parent_qr, current, EXISTS (SELECT 1 FROM bill WHERE completed) AS bill_completed,
	       id, qr, type, tt_bag_status(type, child_count, capacity) AS status, area_id, parent_id, child_count,
	       capacity, billed, created_by, created_at, updated_at
	FROM (SELECT c.id, c.qr, c.type, c.area_id, c.parent_id, c.child_count + i.n AS child_count, c.capacity, c.billed,
	             c.created_by, c.created_at, CASE WHEN i.n > 0 THEN now() ELSE c.updated_at END AS updated_at, c.current
	      FROM checked c CROSS JOIN (SELECT count(*)::integer AS n FROM inserted) i) after
	UNION ALL
	SELECT 'existing', parent_qr, NULL, NULL, ` + bagColumns + ` FROM existing
	UNION ALL
	SELECT 'linked', NULL, NULL, NULL, ` + bagColumns + ` FROM inserted`

// linkChildrenAtOnce runs linkChildrenAtOnceSQL. It returns a nil result when the statement
// changed nothing because the batch needs the transaction (an error to tell, a parent that
// changed meanwhile, or a new code that a concurrent scan inserted first: the statement's
// plain INSERT fails on bags_qr_key and rolls back, and the transaction classifies that code
// as it finds it). Otherwise the batch is committed and the result holds its rejections
// (after the triage's).
func (s *Store) linkChildrenAtOnce(ctx context.Context, a Actor, code string, codes []string) (*LinkResult, error) {
	parent, existing, inserted, err := s.runLinkChildrenAtOnce(ctx, a, code, codes)
	if pgCode, constraint := constraintName(err); pgCode == pqUniqueViolation && constraint == "bags_qr_key" {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "link children")
	}
	if parent == nil || !parent.current || !a.MaySeeArea(parent.AreaID) || parent.billCompleted {
		return nil, nil
	}
	result := &LinkResult{Parent: parent.Bag}
	fresh := classify(a, parent.Bag, codes, existing, result, &result.Rejected)
	room := max(0, parent.Capacity-(parent.ChildCount-len(inserted))) // the room it had when locked
	taken, rest := fresh[:min(room, len(fresh))], fresh[min(room, len(fresh)):]
	placeLinked(taken, inserted, result) // all of taken went in: the INSERT skips none
	for _, c := range rest {
		result.Rejected = append(result.Rejected, rejectParentFull(c, code, parent.Capacity))
	}
	if len(inserted) > 0 {
		s.afterCommit()
	}
	return result, nil
}

// batchParent is the parent row of linkChildrenAtOnceSQL's answer.
type batchParent struct {
	*Bag
	current       bool
	billCompleted bool
}

// runLinkChildrenAtOnce runs linkChildrenAtOnceSQL and sorts its rows, read with bagRows:
// sqlx's scan of the 31 rows, by reflection, was more than half of the client CPU the
// statement cost. The parent is nil when the statement found none.
func (s *Store) runLinkChildrenAtOnce(ctx context.Context, a Actor, code string, codes []string) (parent *batchParent, existing []existingBag, inserted []*Bag, err error) {
	rows, err := s.db.QueryContext(ctx, linkChildrenAtOnceSQL, code, pq.Array(codes), a.UserID, a.scopeParam())
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	read := newBagRows(1+len(codes), 0)
	inserted = make([]*Bag, 0, len(codes))
	var role string
	var parentQR *string
	var current, billCompleted sql.NullBool
	for rows.Next() {
		bag, err := read.scan(rows, &role, &parentQR, &current, &billCompleted)
		if err != nil {
			return nil, nil, nil, err
		}
		switch role {
		case "parent":
			parent = &batchParent{Bag: bag, current: current.Bool, billCompleted: billCompleted.Bool}
		case "existing":
			existing = append(existing, existingBag{Bag: *bag, ParentQR: parentQR})
		default:
			inserted = append(inserted, bag)
		}
	}
	return parent, existing, inserted, rows.Err()
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
	return classify(a, parent, codes, existing, result, rejected), nil
}

// classify files the codes that exist (already linked to parent, or rejected as linked
// elsewhere) and returns the others, in batch order.
func classify(a Actor, parent *Bag, codes []string, existing []existingBag, result *LinkResult, rejected *[]Rejection) []string {
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
	return fresh
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
// an existing code is (linkedElsewhere). Linked keeps the scan order.
func insertChildren(ctx context.Context, tx *sqlx.Tx, a Actor, parent *Bag, codes []string, result *LinkResult, rejected *[]Rejection) (int, error) {
	var inserted []*Bag
	err := tx.SelectContext(ctx, &inserted, `
		WITH `+insertChildrenCTEs(`unnest($1::text[]) AS c(qr)`, `$2::bigint`, `$3::integer`, `$4::bigint`, true)+`
		SELECT `+bagColumns+` FROM inserted ORDER BY id`,
		pq.Array(codes), parent.ID, parent.AreaID, a.UserID)
	if err != nil {
		return 0, wrap(err, "link children")
	}
	skipped := placeLinked(codes, inserted, result)
	if len(skipped) == 0 {
		return len(inserted), nil
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

// insertChildrenCTEs are the WITH queries "inserted", the children of the QRs of codes (a
// relation c with a column qr) that are new, and "logged", their CHILD_LINKED rows. The rows go
// in sorted by QR, so two batches sharing new QRs wait for each other in the same order instead
// of deadlocking. parentID, areaID and userID are SQL expressions. skipTaken skips a code a
// concurrent scan inserted first (ON CONFLICT DO NOTHING); without it that code fails the
// statement on bags_qr_key. ON CONFLICT costs every row a speculative insertion (a probe of
// bags_qr_key before the insert, a speculative-insertion lock, one more WAL record): about a
// tenth of the 30-child statement's PostgreSQL CPU measured on its own (bench/README.md), so
// the one-statement batch, which meets such a race rarely and can start over, goes without.
func insertChildrenCTEs(codes, parentID, areaID, userID string, skipTaken bool) string {
	conflict := ""
	if skipTaken {
		conflict = "ON CONFLICT (qr) DO NOTHING"
	}
	return `inserted AS (
			INSERT INTO bags (qr, type, parent_id, area_id, created_by)
			SELECT c.qr, 'CHILD', ` + parentID + `, ` + areaID + `, ` + userID + ` FROM ` + codes + `
			ORDER BY c.qr COLLATE "C"
			` + conflict + `
			RETURNING ` + bagColumns + `
		), logged AS (
			` + scanLogInsert(`(SELECT qr, id, parent_id, NULL::bigint AS bill_id, area_id, id AS ord FROM inserted) e`,
		`'CHILD_LINKED'`, userID) + `
		)`
}

// placeLinked appends the inserted children to result.Linked in the order of codes (the scan
// order) and returns the codes that were not inserted (a concurrent scan inserted them first).
func placeLinked(codes []string, inserted []*Bag, result *LinkResult) (skipped []string) {
	position := make(map[string]int, len(codes))
	for i, c := range codes {
		position[c] = i
	}
	slices.SortFunc(inserted, func(a, b *Bag) int { return position[a.QR] - position[b.QR] })
	result.Linked = append(result.Linked, inserted...)
	if len(inserted) == len(codes) {
		return nil
	}
	done := make(map[string]bool, len(inserted))
	for _, b := range inserted {
		done[b.QR] = true
	}
	for _, c := range codes {
		if !done[c] {
			skipped = append(skipped, c)
		}
	}
	return skipped
}
