// Package loaders holds the per-request dataloaders (graph-gophers/dataloader v7) that batch
// the nested fields of a GraphQL query: every field that would otherwise query once per
// parent row asks its loader, and the loader answers all rows of one level with one
// statement. Areas need no loader: the store keeps them in memory.
//
// A set of loaders belongs to one actor (the caller of the request, or the subscriber of a
// subscription event): every batch passes that actor to the store, which applies its area
// scope, so a nested list or field never returns what the actor may not see.
package loaders

import (
	"context"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"tracetrack/db"
	"tracetrack/metrics"
)

// Settings tune the loaders: Wait is how long a loader collects keys before it queries;
// MaxBatch caps the keys of one statement.
type Settings struct {
	Wait     time.Duration
	MaxBatch int
}

// DefaultSettings wait long enough for gqlgen to resolve one level of a list concurrently
// and cap a batch where a 50 x 20 screen (1,000 parents) still takes one statement.
func DefaultSettings() Settings {
	return Settings{Wait: time.Millisecond, MaxBatch: 1000}
}

// PageKey asks for one page of a list owned by OwnerID (a parent's children, a bill's
// parent bags, a bag's scans).
type PageKey struct {
	OwnerID int64
	Page    db.Page
}

// Page is one page of a list: its items, each item's keyset position, and whether more follow.
type Page[T any] struct {
	Items     []T
	Positions []int64
	HasNext   bool
}

// Loaders are the loaders of one request (or one subscription event).
type Loaders struct {
	BagByID  *dataloader.Loader[int64, *db.Bag]
	BillByID *dataloader.Loader[int64, *db.Bill]
	UserByID *dataloader.Loader[int64, *db.User]
	// ReturnTicketByID: the audit log's ticket targets.
	ReturnTicketByID *dataloader.Loader[int64, *db.ReturnTicket]
	BillOfBag        *dataloader.Loader[int64, *db.Bill]
	Children         *dataloader.Loader[PageKey, Page[*db.Bag]]
	ParentBags       *dataloader.Loader[PageKey, Page[*db.Bag]]
	// ParentBagCount is the totalCount of a bill's parentBags: the parents the actor sees.
	ParentBagCount *dataloader.Loader[int64, int]
	ScansOfBag     *dataloader.Loader[PageKey, Page[*db.Scan]]
	// ReturnedBags are the bags of return tickets, in the order they were returned.
	ReturnedBags *dataloader.Loader[PageKey, Page[*db.ReturnedBag]]
	// Actor is whose scope every batch applies.
	Actor db.Actor
}

// New builds a fresh set of loaders over the store for the actor.
func New(store *db.Store, a db.Actor, s Settings) *Loaders {
	return &Loaders{
		BagByID:  newLoader(s, "bag_by_id", byKey(as(a, store.BagsByIDs), func(b *db.Bag) (int64, *db.Bag) { return b.ID, b })),
		BillByID: newLoader(s, "bill_by_id", byKey(store.BillsByIDs, func(b *db.Bill) (int64, *db.Bill) { return b.ID, b })),
		UserByID: newLoader(s, "user_by_id", byKey(as(a, store.UsersByIDs), func(u *db.User) (int64, *db.User) { return u.ID, u })),
		ReturnTicketByID: newLoader(s, "return_ticket_by_id", byKey(as(a, store.ReturnTicketsByIDs),
			func(t *db.ReturnTicket) (int64, *db.ReturnTicket) { return t.ID, t })),
		BillOfBag:      newLoader(s, "bill_of_bag", byKey(as(a, store.BillsOfBags), billOfBag)),
		Children:       newLoader(s, "children", ownedPages(pagesAs(a, store.ChildrenOfParents), ownedBag)),
		ParentBags:     newLoader(s, "parent_bags", ownedPages(pagesAs(a, store.ParentBagsOfBills), ownedBag)),
		ParentBagCount: newLoader(s, "parent_bag_count", byKey(as(a, store.ParentBagCountsOfBills), ownerCount)),
		ScansOfBag:     newLoader(s, "scans_of_bag", ownedPages(pagesAs(a, store.ScansOfBags), ownedScan)),
		ReturnedBags:   newLoader(s, "returned_bags", ownedPages(pagesAs(a, store.ReturnedBagsOfTickets), ownedReturnedBag)),
		Actor:          a,
	}
}

// ClearAll forgets every cached answer: a mutation may have changed them.
func (l *Loaders) ClearAll() {
	l.BagByID.ClearAll()
	l.BillByID.ClearAll()
	l.UserByID.ClearAll()
	l.ReturnTicketByID.ClearAll()
	l.BillOfBag.ClearAll()
	l.Children.ClearAll()
	l.ParentBags.ClearAll()
	l.ParentBagCount.ClearAll()
	l.ScansOfBag.ClearAll()
	l.ReturnedBags.ClearAll()
}

type loadersKey struct{}

// With returns ctx carrying the loaders.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// For returns the loaders of the request ctx belongs to.
func For(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}

func newLoader[K comparable, V any](s Settings, name string, batch dataloader.BatchFunc[K, V]) *dataloader.Loader[K, V] {
	observed := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		metrics.LoaderBatchSize.WithLabelValues(name).Observe(float64(len(keys)))
		return batch(ctx, keys)
	}
	return dataloader.NewBatchedLoader(observed,
		dataloader.WithWait[K, V](s.Wait), dataloader.WithBatchCapacity[K, V](s.MaxBatch))
}
