package resolvers

import (
	"context"

	"tracetrack/db"
	"tracetrack/graph/model"
)

// bagConnection builds a connection from a page of bags and their keyset positions.
func bagConnection(bags []*db.Bag, positions []int64, hasNext bool, count func(context.Context) (int, error)) *model.BagConnection {
	conn := &model.BagConnection{Edges: make([]*model.BagEdge, len(bags)), PageInfo: &model.PageInfo{HasNextPage: hasNext}, Count: count}
	for i, b := range bags {
		conn.Edges[i] = &model.BagEdge{Cursor: encodeCursor(positions[i]), Node: b}
	}
	if n := len(bags); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}

func scanConnection(scans []*db.Scan, hasNext bool) *model.ScanConnection {
	conn := &model.ScanConnection{Edges: make([]*model.ScanEdge, len(scans)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, s := range scans {
		conn.Edges[i] = &model.ScanEdge{Cursor: encodeCursor(s.ID), Node: s}
	}
	if n := len(scans); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
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
