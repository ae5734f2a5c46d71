package resolvers

import (
	"context"

	"tracetrack/db"
	"tracetrack/graph/model"
)

// bagConnection builds a connection from a page of bags and their keyset positions (the
// edges in one allocation).
func bagConnection(bags []*db.Bag, positions []int64, hasNext bool, count func(context.Context) (int, error)) *model.BagConnection {
	edges := make([]model.BagEdge, len(bags))
	conn := &model.BagConnection{Edges: make([]*model.BagEdge, len(bags)), PageInfo: &model.PageInfo{HasNextPage: hasNext}, Count: count}
	for i, b := range bags {
		edges[i] = model.BagEdge{Node: b, Position: positions[i]}
		conn.Edges[i] = &edges[i]
	}
	if n := len(edges); n > 0 {
		end := edges[n-1].Cursor()
		conn.PageInfo.EndCursor = &end
	}
	return conn
}

func scanConnection(scans []*db.Scan, hasNext bool) *model.ScanConnection {
	edges := make([]model.ScanEdge, len(scans))
	conn := &model.ScanConnection{Edges: make([]*model.ScanEdge, len(scans)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, s := range scans {
		edges[i].Node = s
		conn.Edges[i] = &edges[i]
	}
	if n := len(edges); n > 0 {
		end := edges[n-1].Cursor()
		conn.PageInfo.EndCursor = &end
	}
	return conn
}

func bagIDs(bags []*db.Bag) []int64 {
	ids := make([]int64, len(bags))
	for i, b := range bags {
		ids[i] = b.ID
	}
	return ids
}

func fixedCount(n int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return n, nil }
}

// bagFilter turns the GraphQL filter into the store's (the store applies the area scope).
func (r *Resolver) bagFilter(ctx context.Context, f *model.BagFilter) (db.BagFilter, error) {
	if f == nil {
		f = &model.BagFilter{}
	}
	area, err := r.Store.AreaIDOfCode(ctx, f.AreaCode)
	if err != nil {
		return db.BagFilter{}, err
	}
	out := db.BagFilter{Type: f.Type, Status: f.Status, AreaID: area, Billed: f.Billed,
		CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore}
	if err := out.SetSearch(f.QRPrefix, f.Search); err != nil {
		return db.BagFilter{}, err
	}
	return out, nil
}

// bagTypes are the types a Bag selection's fragments may name.
var bagTypes = []string{"Bag", "Node"}
