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
	"sync"
	"sync/atomic"
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
// parent bags, a bag's scans). Columns are the columns a page of bags must hold (zero: all):
// a root that read its nested page with only the columns its selection asks for primes it
// under them, so only a selection that asks for those columns finds it. The loaders read
// every column whatever the key asks.
type PageKey struct {
	OwnerID int64
	Page    db.Page
	Columns db.BagColumns
}

// Page is one page of a list: its items, each item's keyset position, and whether more follow.
type Page[T any] struct {
	Items     []T
	Positions []int64
	HasNext   bool
}

// Loaders are the loaders of one request (or one subscription event). Each loader is built
// on its first use: most requests use one or two of them.
type Loaders struct {
	store    *db.Store
	settings Settings
	// Actor is whose scope every batch applies.
	Actor db.Actor

	bagByID  lazy[int64, *db.Bag]
	billByID lazy[int64, *db.Bill]
	userByID lazy[int64, *db.User]
	// returnTicketByID: the audit log's ticket targets.
	returnTicketByID lazy[int64, *db.ReturnTicket]
	billOfBag        lazy[int64, *db.Bill]
	children         lazy[PageKey, Page[*db.Bag]]
	parentBags       lazy[PageKey, Page[*db.Bag]]
	parentBagCount   lazy[int64, int]
	scansOfBag       lazy[PageKey, Page[*db.Scan]]
	returnedBags     lazy[PageKey, Page[*db.ReturnedBag]]
}

// New returns a fresh set of loaders over the store for the actor.
func New(store *db.Store, a db.Actor, s Settings) *Loaders {
	return &Loaders{store: store, settings: s, Actor: a}
}

// BagByID loads bags by id.
func (l *Loaders) BagByID() *dataloader.Loader[int64, *db.Bag] {
	return l.bagByID.get(l, func(l *Loaders) *dataloader.Loader[int64, *db.Bag] {
		return newLoader(l.settings, "bag_by_id", byKey(as(l.Actor, l.store.BagsByIDs), func(b *db.Bag) (int64, *db.Bag) { return b.ID, b }))
	})
}

// BillByID loads bills by id.
func (l *Loaders) BillByID() *dataloader.Loader[int64, *db.Bill] {
	return l.billByID.get(l, func(l *Loaders) *dataloader.Loader[int64, *db.Bill] {
		return newLoader(l.settings, "bill_by_id", byKey(l.store.BillsByIDs, func(b *db.Bill) (int64, *db.Bill) { return b.ID, b }))
	})
}

// UserByID loads users by id, as the actor may see them.
func (l *Loaders) UserByID() *dataloader.Loader[int64, *db.User] {
	return l.userByID.get(l, func(l *Loaders) *dataloader.Loader[int64, *db.User] {
		return newLoader(l.settings, "user_by_id", byKey(as(l.Actor, l.store.UsersByIDs), func(u *db.User) (int64, *db.User) { return u.ID, u }))
	})
}

// ReturnTicketByID loads return tickets by id (the audit log's ticket targets).
func (l *Loaders) ReturnTicketByID() *dataloader.Loader[int64, *db.ReturnTicket] {
	return l.returnTicketByID.get(l, func(l *Loaders) *dataloader.Loader[int64, *db.ReturnTicket] {
		return newLoader(l.settings, "return_ticket_by_id", byKey(as(l.Actor, l.store.ReturnTicketsByIDs),
			func(t *db.ReturnTicket) (int64, *db.ReturnTicket) { return t.ID, t }))
	})
}

// BillOfBag loads the bill a bag is on (nil: none).
func (l *Loaders) BillOfBag() *dataloader.Loader[int64, *db.Bill] {
	return l.billOfBag.get(l, func(l *Loaders) *dataloader.Loader[int64, *db.Bill] {
		return newLoader(l.settings, "bill_of_bag", byKey(as(l.Actor, l.store.BillsOfBags), billOfBag))
	})
}

// Children loads pages of parents' children.
func (l *Loaders) Children() *dataloader.Loader[PageKey, Page[*db.Bag]] {
	return l.children.get(l, func(l *Loaders) *dataloader.Loader[PageKey, Page[*db.Bag]] {
		return newLoader(l.settings, "children", ownedPages(pagesAs(l.Actor, l.store.ChildrenOfParents), ownedBag))
	})
}

// ParentBags loads pages of bills' parent bags.
func (l *Loaders) ParentBags() *dataloader.Loader[PageKey, Page[*db.Bag]] {
	return l.parentBags.get(l, func(l *Loaders) *dataloader.Loader[PageKey, Page[*db.Bag]] {
		return newLoader(l.settings, "parent_bags", ownedPages(pagesAs(l.Actor, l.store.ParentBagsOfBills), ownedBag))
	})
}

// ParentBagCount loads the totalCount of bills' parentBags: the parents the actor sees.
func (l *Loaders) ParentBagCount() *dataloader.Loader[int64, int] {
	return l.parentBagCount.get(l, func(l *Loaders) *dataloader.Loader[int64, int] {
		return newLoader(l.settings, "parent_bag_count", byKey(as(l.Actor, l.store.ParentBagCountsOfBills), ownerCount))
	})
}

// ScansOfBag loads pages of bags' scan logs.
func (l *Loaders) ScansOfBag() *dataloader.Loader[PageKey, Page[*db.Scan]] {
	return l.scansOfBag.get(l, func(l *Loaders) *dataloader.Loader[PageKey, Page[*db.Scan]] {
		return newLoader(l.settings, "scans_of_bag", ownedPages(pagesAs(l.Actor, l.store.ScansOfBags), ownedScan))
	})
}

// ReturnedBags loads pages of the bags of return tickets, in the order they were returned.
func (l *Loaders) ReturnedBags() *dataloader.Loader[PageKey, Page[*db.ReturnedBag]] {
	return l.returnedBags.get(l, func(l *Loaders) *dataloader.Loader[PageKey, Page[*db.ReturnedBag]] {
		return newLoader(l.settings, "returned_bags", ownedPages(pagesAs(l.Actor, l.store.ReturnedBagsOfTickets), ownedReturnedBag))
	})
}

// ClearAll forgets every cached answer: a mutation may have changed them.
func (l *Loaders) ClearAll() {
	l.bagByID.clear()
	l.billByID.clear()
	l.userByID.clear()
	l.returnTicketByID.clear()
	l.billOfBag.clear()
	l.children.clear()
	l.parentBags.clear()
	l.parentBagCount.clear()
	l.scansOfBag.clear()
	l.returnedBags.clear()
}

// lazy is a loader built on first use; resolvers of one request call it concurrently.
type lazy[K comparable, V any] struct {
	mu     sync.Mutex
	loader atomic.Pointer[dataloader.Loader[K, V]]
}

// get returns the loader, building it with build the first time (build captures nothing, so
// a call costs no allocation).
func (z *lazy[K, V]) get(l *Loaders, build func(*Loaders) *dataloader.Loader[K, V]) *dataloader.Loader[K, V] {
	if loader := z.loader.Load(); loader != nil {
		return loader
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if loader := z.loader.Load(); loader != nil {
		return loader
	}
	loader := build(l)
	z.loader.Store(loader)
	return loader
}

func (z *lazy[K, V]) clear() {
	if loader := z.loader.Load(); loader != nil {
		loader.ClearAll()
	}
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
