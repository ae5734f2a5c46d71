package loaders

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	"tracetrack/db"
)

// as binds the actor to a store batch read.
func as[R any](a db.Actor, fetch func(context.Context, db.Actor, []int64) ([]R, error)) func(context.Context, []int64) ([]R, error) {
	return func(ctx context.Context, keys []int64) ([]R, error) { return fetch(ctx, a, keys) }
}

// pagesAs binds the actor to a store batch read of pages.
func pagesAs[R any](a db.Actor, fetch func(context.Context, db.Actor, []int64, db.Page) ([]R, error)) func(context.Context, []int64, db.Page) ([]R, error) {
	return func(ctx context.Context, keys []int64, page db.Page) ([]R, error) { return fetch(ctx, a, keys, page) }
}

// byKey turns a "fetch rows for these keys" store method into a batch function that
// answers each key in key order, nil for a key without a row. split tells a row's key.
func byKey[R any, V any](fetch func(context.Context, []int64) ([]R, error), split func(R) (int64, V)) dataloader.BatchFunc[int64, V] {
	return func(ctx context.Context, keys []int64) []*dataloader.Result[V] {
		rows, err := fetch(ctx, keys)
		if err != nil {
			return failAll[V](len(keys), err)
		}
		found := make(map[int64]V, len(rows))
		for _, row := range rows {
			key, value := split(row)
			found[key] = value
		}
		results := make([]*dataloader.Result[V], len(keys))
		for i, key := range keys {
			results[i] = &dataloader.Result[V]{Data: found[key]}
		}
		return results
	}
}

// ownedPages turns a "fetch a page of each owner's list" store method into a batch function.
// Keys asking for different page arguments are grouped, one statement per distinct page
// request (a query uses one per level, so normally one statement in all); the rows hold every
// column, so keys of any columns share them.
func ownedPages[R any, T any](
	fetch func(context.Context, []int64, db.Page) ([]R, error),
	split func(R) (owner, pos int64, item T),
) dataloader.BatchFunc[PageKey, Page[T]] {
	return func(ctx context.Context, keys []PageKey) []*dataloader.Result[Page[T]] {
		owners := map[db.Page][]int64{}
		for _, k := range keys {
			owners[k.Page] = append(owners[k.Page], k.OwnerID)
		}
		pages := map[PageKey]*Page[T]{}
		for page, ids := range owners {
			rows, err := fetch(ctx, ids, page)
			if err != nil {
				return failAll[Page[T]](len(keys), err)
			}
			for _, row := range rows {
				owner, pos, item := split(row)
				p := pages[PageKey{OwnerID: owner, Page: page}]
				if p == nil {
					p = &Page[T]{}
					pages[PageKey{OwnerID: owner, Page: page}] = p
				}
				if len(p.Items) == page.Limit {
					p.HasNext = true
					continue
				}
				p.Items = append(p.Items, item)
				p.Positions = append(p.Positions, pos)
			}
		}
		results := make([]*dataloader.Result[Page[T]], len(keys))
		for i, k := range keys {
			var p Page[T]
			if found := pages[PageKey{OwnerID: k.OwnerID, Page: k.Page}]; found != nil {
				p = *found
			}
			results[i] = &dataloader.Result[Page[T]]{Data: p}
		}
		return results
	}
}

func billOfBag(r *db.BagBill) (int64, *db.Bill) {
	return r.BagID, &r.Bill
}

func ownerCount(r *db.OwnerCount) (int64, int) {
	return r.OwnerID, r.Count
}

func ownedBag(r *db.OwnedBag) (int64, int64, *db.Bag) {
	bag := r.Bag
	return r.OwnerID, r.Pos, &bag
}

func ownedScan(r *db.OwnedScan) (int64, int64, *db.Scan) {
	scan := r.Scan
	return r.OwnerID, r.ID, &scan
}

func ownedReturnedBag(r *db.OwnedReturnedBag) (int64, int64, *db.ReturnedBag) {
	bag := r.ReturnedBag
	return r.OwnerID, r.Pos, &bag
}

func failAll[V any](n int, err error) []*dataloader.Result[V] {
	results := make([]*dataloader.Result[V], n)
	for i := range results {
		results[i] = &dataloader.Result[V]{Error: err}
	}
	return results
}
