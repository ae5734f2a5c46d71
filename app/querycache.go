package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
)

// maxCachedQueryBytes is the longest query text the query cache and the persisted-query
// cache keep. Comments and whitespace cost no parser tokens, so a document within the token
// limit can still be a megabyte long; both caches keep 1,000 entries, and without this bound
// a few hundred anonymous requests would pin a gigabyte of query text. A longer query is
// served all the same, parsed afresh each time (and a persisted one is asked for again).
const maxCachedQueryBytes = 16 << 10

// boundedCache is an LRU that refuses entries whose query text is over maxCachedQueryBytes.
type boundedCache[T any] struct {
	entries *lru.LRU[T]
	// text is the query text of an entry (its key for the query cache, its value for
	// persisted queries).
	text func(key string, value T) string
}

var _ graphql.Cache[any] = boundedCache[any]{}

func newBoundedCache[T any](size int, text func(key string, value T) string) boundedCache[T] {
	return boundedCache[T]{entries: lru.New[T](size), text: text}
}

func (c boundedCache[T]) Get(ctx context.Context, key string) (T, bool) {
	return c.entries.Get(ctx, key)
}

func (c boundedCache[T]) Add(ctx context.Context, key string, value T) {
	if len(c.text(key, value)) <= maxCachedQueryBytes {
		c.entries.Add(ctx, key, value)
	}
}
