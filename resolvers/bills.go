package resolvers

import (
	"context"
	"time"

	"tracetrack/auth"
	"tracetrack/loaders"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/graph/model"
	"tracetrack/internal/gid"
)

// now is the resolvers' clock (Config.Now when a test sets one).
func (r *Resolver) now() time.Time {
	if r.Config.Now != nil {
		return r.Config.Now()
	}
	return time.Now()
}

// billFilter turns the GraphQL filter into the store's.
func billFilter(f *model.BillFilter) (db.BillListFilter, error) {
	if f == nil {
		return db.BillListFilter{}, nil
	}
	out := db.BillListFilter{Status: f.Status, Search: f.Search, CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore}
	if f.CreatedByID != nil {
		id, err := gid.Decode(gid.User, *f.CreatedByID)
		if err != nil {
			return db.BillListFilter{}, err
		}
		out.CreatedByID = &id
	}
	return out, nil
}

// billConnection maps a store page to the GraphQL connection.
func billConnection(page *db.BillPage) *model.BillConnection {
	edges := make([]model.BillEdge, len(page.Bills))
	conn := &model.BillConnection{Edges: make([]*model.BillEdge, len(page.Bills)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNext}, TotalCount: page.TotalCount}
	for i, b := range page.Bills {
		edges[i].Node = b
		conn.Edges[i] = &edges[i]
	}
	if n := len(edges); n > 0 {
		end := edges[n-1].Cursor()
		conn.PageInfo.EndCursor = &end
	}
	return conn
}

// billLookup checks bill(id, billNumber): exactly one of the two.
func billLookup(id, billNumber *string) error {
	if (id == nil) == (billNumber == nil) {
		return apperr.New(apperr.BadUserInput, "pass exactly one of id and billNumber")
	}
	return nil
}

// integrityReport maps the store's problems, with opaque entity ids.
func integrityReport(problems []db.IntegrityIssue, at time.Time) *model.IntegrityReport {
	report := &model.IntegrityReport{Ok: len(problems) == 0, CheckedAt: at, Problems: make([]*model.IntegrityProblem, len(problems))}
	for i, p := range problems {
		report.Problems[i] = &model.IntegrityProblem{Kind: p.Kind, EntityID: gid.Encode(p.EntityType, p.EntityID), Detail: p.Detail}
	}
	return report
}

// billByNumber returns the bill with the number; when the query asks for its parentBags, the
// first page comes in the same statement, with the columns the page's selection asks for,
// and primes the parentBags loader.
func (r *Resolver) billByNumber(ctx context.Context, number string) (*db.Bill, error) {
	page, columns, planned := nestedPage(ctx, billTypes, "parentBags", 50)
	if !planned {
		return r.Store.BillByNumber(ctx, number)
	}
	bill, parents, err := r.Store.BillWithParentBags(ctx, auth.ActorFrom(ctx), number, page, columns)
	if err != nil || bill == nil {
		return nil, err
	}
	loaders.For(ctx).ParentBags().Prime(ctx, loaders.PageKey{OwnerID: bill.ID, Page: page, Columns: columns},
		loaders.Page[*db.Bag]{Items: parents.Bags, Positions: parents.Positions, HasNext: parents.HasNext})
	return bill, nil
}

// billTypes are the types a Bill selection's fragments may name.
var billTypes = []string{"Bill", "Node"}
