package model

import "context"

// BagConnection is a page of bags. Its totalCount is computed only when a client selects it
// (an exact count over a large filtered set is the one costly part of a list).
type BagConnection struct {
	Edges    []*BagEdge `json:"edges"`
	PageInfo *PageInfo  `json:"pageInfo"`
	// Count returns the exact number of matches.
	Count func(ctx context.Context) (int, error) `json:"-"`
}
