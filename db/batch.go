package db

import (
	"context"
)

// Batch reads for the per-request dataloaders: each takes many keys and answers them in one
// statement (`= ANY($1)` or a LATERAL join for per-key pages), so the statements of a
// GraphQL query grow with its depth, never with its rows. Each applies the actor's area
// scope in its SQL (scopeParam): a bag, child or scan of an area the actor may not see is
// absent, as if it did not exist, and users come with their private fields blanked
// (User.VisibleTo). Bills belong to no area: every signed-in role reads them.

// BagsByIDs returns the bags with the ids that the actor may see (others are absent).
func (s *Store) BagsByIDs(ctx context.Context, a Actor, ids []int64) ([]*Bag, error) {
	var bags []*Bag
	err := s.db.SelectContext(ctx, &bags, `
		SELECT `+bagColumns+` FROM bags
		WHERE id = ANY($1) AND ($2::bigint IS NULL OR area_id = $2)`, ids, a.scopeParam())
	return bags, wrap(err, "fetch bags by id")
}

// BillsByIDs returns the bills with the ids (missing ones are absent).
func (s *Store) BillsByIDs(ctx context.Context, ids []int64) ([]*Bill, error) {
	var bills []*Bill
	err := s.db.SelectContext(ctx, &bills, `SELECT `+billColumns+` FROM bills WHERE id = ANY($1)`, ids)
	return bills, wrap(err, "fetch bills by id")
}

// UsersByIDs returns the users with the ids (missing ones are absent), as the actor may see
// them (User.VisibleTo).
func (s *Store) UsersByIDs(ctx context.Context, a Actor, ids []int64) ([]*User, error) {
	var users []*User
	err := s.db.SelectContext(ctx, &users, `SELECT `+userColumns+` FROM users WHERE id = ANY($1)`, ids)
	return usersVisibleTo(users, a), wrap(err, "fetch users by id")
}

// BagBill is the bill a bag is on: a parent's own, a child's parent's.
type BagBill struct {
	BagID int64 `db:"bag_id"`
	Bill
}

// BillsOfBags returns the bill of each bag the actor may see that is on one (through its
// parent for children).
func (s *Store) BillsOfBags(ctx context.Context, a Actor, bagIDs []int64) ([]*BagBill, error) {
	var rows []*BagBill
	err := s.db.SelectContext(ctx, &rows, `
		SELECT g.id AS bag_id, `+qualified("b", billColumns)+`
		FROM bags g
		JOIN bill_bags bb ON bb.bag_id = coalesce(g.parent_id, g.id)
		JOIN bills b ON b.id = bb.bill_id
		WHERE g.id = ANY($1) AND ($2::bigint IS NULL OR g.area_id = $2)`, bagIDs, a.scopeParam())
	return rows, wrap(err, "fetch bills of bags")
}

// OwnedBag is a bag with the key of the list it belongs to (its parent or bill) and its
// position in that list.
type OwnedBag struct {
	OwnerID int64 `db:"owner_id"`
	Pos     int64 `db:"pos"`
	Bag
}

// ChildrenOfParents returns a page of children of each parent, oldest link first: up to
// page.Limit+1 per parent (the extra row tells there is a next page). Pos is the child id.
// Only children the actor may see (a child has its parent's area).
func (s *Store) ChildrenOfParents(ctx context.Context, a Actor, parentIDs []int64, page Page) ([]*OwnedBag, error) {
	var rows []*OwnedBag
	err := s.db.SelectContext(ctx, &rows, childrenOfParentsQuery, parentIDs, page.AfterID, page.Limit+1, a.scopeParam())
	return rows, wrap(err, "fetch children of parents")
}

// childrenPage selects a page of the children of the parent whose id is the SQL expression
// parentID, oldest link first, as the actor sees them: $2 the child id after which the page
// starts, $3 its rows, $4 the actor's area scope. ChildrenOfParents and BagWithChildren share
// it, so the page a root plans is the page the loader would fetch.
func childrenPage(parentID string) string {
	return `SELECT ` + bagColumns + ` FROM bags
		WHERE parent_id = ` + parentID + ` AND id > $2 AND ($4::bigint IS NULL OR area_id = $4)
		ORDER BY id
		LIMIT $3`
}

var childrenOfParentsQuery = `
	SELECT p.id AS owner_id, c.id AS pos, ` + qualified("c", bagColumns) + `
	FROM unnest($1::bigint[]) AS p(id)
	CROSS JOIN LATERAL (` + childrenPage("p.id") + `) c`

// ParentBagsOfBills returns a page of parent bags of each bill in the order they were
// linked: up to page.Limit+1 per bill. Pos is the link's id, the keyset position. Only the
// parents the actor may see: a dispatcher's view of a bill lists their own area's parents.
func (s *Store) ParentBagsOfBills(ctx context.Context, a Actor, billIDs []int64, page Page) ([]*OwnedBag, error) {
	var rows []*OwnedBag
	err := s.db.SelectContext(ctx, &rows, parentBagsOfBillsQuery, billIDs, page.AfterID, page.Limit+1, a.scopeParam())
	return rows, wrap(err, "fetch parent bags of bills")
}

// parentBagsPage selects a page of the parent bags of the bill whose id is the SQL expression
// billID, in link order, each with its link_id (the keyset position), as the actor sees them:
// $2 the link after which the page starts, $3 its rows, $4 the actor's area scope.
// ParentBagsOfBills and BillWithParentBags share it.
func parentBagsPage(billID string) string {
	return `SELECT bb.id AS link_id, ` + qualified("g", bagColumns) + `
		FROM bill_bags bb
		JOIN bags g ON g.id = bb.bag_id
		WHERE bb.bill_id = ` + billID + ` AND bb.id > $2 AND ($4::bigint IS NULL OR g.area_id = $4)
		ORDER BY bb.id
		LIMIT $3`
}

var parentBagsOfBillsQuery = `
	SELECT b.id AS owner_id, l.link_id AS pos, ` + qualified("l", bagColumns) + `
	FROM unnest($1::bigint[]) AS b(id)
	CROSS JOIN LATERAL (` + parentBagsPage("b.id") + `) l`

// OwnerCount is the length of one owner's list.
type OwnerCount struct {
	OwnerID int64 `db:"owner_id"`
	Count   int   `db:"count"`
}

// ParentBagCountsOfBills returns, for each bill, how many of its parent bags the actor may
// see (ParentBagsOfBills' totalCount): the bill's own counter for those who see every area,
// a count over the dispatcher's area otherwise (bill_bags_bill index, one bill's parents).
func (s *Store) ParentBagCountsOfBills(ctx context.Context, a Actor, billIDs []int64) ([]*OwnerCount, error) {
	var rows []*OwnerCount
	err := s.db.SelectContext(ctx, &rows, `
		SELECT b.id AS owner_id,
		       CASE WHEN $2::bigint IS NULL THEN b.parent_bag_count
		            ELSE (SELECT count(*) FROM bill_bags bb JOIN bags g ON g.id = bb.bag_id
		                  WHERE bb.bill_id = b.id AND g.area_id = $2) END AS count
		FROM bills b
		WHERE b.id = ANY($1)`, billIDs, a.scopeParam())
	return rows, wrap(err, "count parent bags of bills")
}

// OwnedScan is a scan with the bag it was fetched for.
type OwnedScan struct {
	OwnerID int64 `db:"owner_id"`
	Scan
}

// ScansOfBags returns a page of each bag's scan log, newest first: up to page.Limit+1 per
// bag, before the scan id page.AfterID when it is set. Only scans of areas the actor may see.
func (s *Store) ScansOfBags(ctx context.Context, a Actor, bagIDs []int64, page Page) ([]*OwnedScan, error) {
	before := page.AfterID
	if before == 0 {
		before = maxID
	}
	var rows []*OwnedScan
	err := s.db.SelectContext(ctx, &rows, `
		SELECT g.id AS owner_id, `+qualified("s", scanColumns)+`
		FROM unnest($1::bigint[]) AS g(id)
		CROSS JOIN LATERAL (
			SELECT `+scanColumns+`
			FROM scans
			WHERE bag_id = g.id AND id < $2 AND ($4::bigint IS NULL OR area_id = $4)
			ORDER BY id DESC
			LIMIT $3
		) s`, bagIDs, before, page.Limit+1, a.scopeParam())
	return rows, wrap(err, "fetch scans of bags")
}

// maxID stands for "no upper bound" in newest-first keyset pages.
const maxID int64 = 1<<63 - 1
