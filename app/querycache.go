package app

import (
	"context"
	"encoding/binary"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"

	"tracetrack/metrics"
)

// maxCachedQueryBytes is the longest query text the query cache and the persisted-query
// cache keep. Comments and whitespace cost no parser tokens, so a document within the token
// limit can still be a megabyte long; both caches keep 1,000 entries, and without this bound
// a few hundred anonymous requests would pin a gigabyte of query text. A longer query is
// served all the same, parsed afresh each time (and a persisted one is asked for again).
const maxCachedQueryBytes = 16 << 10

// defaultQueryCacheSize is how many document shapes the query cache keeps.
const defaultQueryCacheSize = 1000

// boundedCache is an LRU that refuses entries whose query text is over maxCachedQueryBytes
// (the persisted-query cache: hash to text).
type boundedCache[T any] struct {
	entries *lru.LRU[T]
	// text is the query text of an entry (its value for persisted queries).
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

// documentCache is gqlgen's query cache, keyed by a document's shape instead of its text:
// its tokens with the contents of string literals lifted out (whitespace is no token).
// Clients that inline their values ({bag(qr:"SB00042"){...}}) send a new text with every
// request, and a cache keyed by the text parsed and validated each one again; here they
// share the validated document of the first, and each request gets a copy of it that
// carries its own strings and its own positions (so errors point into its own text).
//
// Validation cannot tell such documents apart: it reads a string literal's content only to
// compare it with another literal (two fields of one response name must have equal
// arguments), so the shape numbers the distinct strings of a document and two documents
// share a shape only when their strings are equal in the same places. Every other token,
// numbers (first: 30, which the complexity budget reads) and enum values included, is part
// of the shape as written. The complexity, the budget and the resolvers still run on each
// request's own copy.
type documentCache struct {
	shapes *lru.LRU[*documentShape]
	// texts are the documents of the texts seen last, by their text: a client that sends one
	// text again (variables, persisted queries) gets the same document, neither lexed nor
	// copied, as from a cache keyed by the text.
	texts *lru.LRU[*ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = (*documentCache)(nil)

func newDocumentCache(size int) *documentCache {
	return &documentCache{shapes: lru.New[*documentShape](size), texts: lru.New[*ast.QueryDocument](size)}
}

var (
	queryCacheHits   = metrics.QueryCache.WithLabelValues("hit")
	queryCacheMisses = metrics.QueryCache.WithLabelValues("miss")
)

// documentShape is a validated document and what copying it for another text needs.
type documentShape struct {
	doc *ast.QueryDocument
	// starts are the offsets (in runes, as ast.Position counts) of the tokens of doc's text:
	// a position of doc is the position of one of them, and a copy takes the position of the
	// same token in its own text.
	starts []int
	// fixed are the string tokens that are not values (descriptions of operations and
	// variables): the copy keeps doc's, so the texts must agree on them.
	fixed []fixedString
	// sizes are how many nodes of each kind a copy allocates, so it allocates them at once.
	sizes copySizes
}

type fixedString struct {
	token int
	value string
}

// Get returns the document of a text seen before, or else a copy of the cached document of
// query's shape with query's strings and positions, if the shape is cached.
func (c *documentCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	if doc, ok := c.texts.Get(ctx, query); ok {
		queryCacheHits.Inc()
		return doc, true
	}
	lifted, shape := c.lookup(ctx, query)
	if shape == nil {
		queryCacheMisses.Inc()
		return nil, false
	}
	doc, ok := shape.copyFor(lifted)
	if !ok {
		queryCacheMisses.Inc()
		return nil, false
	}
	queryCacheHits.Inc()
	c.texts.Add(ctx, query, doc) // should the client send this text again
	return doc, true
}

// Add keeps a document gqlgen has just parsed and validated for its text, and as its shape's
// once a copy of it made from its own text is exactly the document: so a copy for any other
// text of the shape is exactly what parsing and validating that text gives.
func (c *documentCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) > maxCachedQueryBytes {
		return
	}
	c.texts.Add(ctx, query, doc)
	lifted, _ := c.lookup(ctx, query)
	if lifted == nil {
		return
	}
	shape := &documentShape{doc: doc, starts: make([]int, len(lifted.tokens))}
	for i, tok := range lifted.tokens {
		shape.starts[i] = tok.Pos.Start
	}
	cp := documentCopy{shape: shape, tokens: lifted.tokens, valueStrings: make([]bool, len(lifted.tokens))}
	same, ok := cp.document(doc)
	if !ok || !reflect.DeepEqual(same, doc) {
		return // a node this copy does not know (a newer gqlparser): keep parsing such texts
	}
	shape.sizes = cp.used()
	for i, tok := range lifted.tokens {
		if isString(tok.Kind) && !cp.valueStrings[i] {
			shape.fixed = append(shape.fixed, fixedString{token: i, value: tok.Value})
		}
	}
	c.shapes.Add(ctx, lifted.key, shape)
}

// knows reports whether query's shape is cached (the shape limit checked it when it was
// first seen), without copying the document.
func (c *documentCache) knows(ctx context.Context, query string) bool {
	if c == nil {
		return false
	}
	if _, ok := c.texts.Get(ctx, query); ok {
		return true
	}
	_, shape := c.lookup(ctx, query)
	return shape != nil
}

// liftedExtension is where an operation keeps its lifted query, so that the shape limit,
// gqlgen's cache lookup and its Add read the text once.
const liftedExtension = "tracetrack.liftedQuery"

// lookup lifts query (once per operation) and finds its shape.
func (c *documentCache) lookup(ctx context.Context, query string) (*liftedQuery, *documentShape) {
	if len(query) > maxCachedQueryBytes {
		return nil, nil
	}
	var stats *graphql.Stats
	if graphql.HasOperationContext(ctx) {
		stats = &graphql.GetOperationContext(ctx).Stats
	}
	lifted, _ := statsExtension(stats).(*liftedQuery)
	if lifted == nil || lifted.text != query {
		var ok bool
		if lifted, ok = liftQuery(query); !ok {
			return nil, nil
		}
		if stats != nil {
			stats.SetExtension(liftedExtension, lifted)
		}
	}
	shape, ok := c.shapes.Get(ctx, lifted.key)
	if !ok || !shape.agrees(lifted) {
		return lifted, nil
	}
	return lifted, shape
}

func statsExtension(stats *graphql.Stats) any {
	if stats == nil {
		return nil
	}
	return stats.GetExtension(liftedExtension)
}

// agrees: the text has the shape's descriptions.
func (s *documentShape) agrees(lifted *liftedQuery) bool {
	for _, f := range s.fixed {
		if lifted.tokens[f.token].Value != f.value {
			return false
		}
	}
	return true
}

// copyFor copies the shape's document for a text of the shape.
func (s *documentShape) copyFor(lifted *liftedQuery) (*ast.QueryDocument, bool) {
	cp := documentCopy{shape: s, tokens: lifted.tokens}
	cp.reserve(s.sizes)
	return cp.document(s.doc)
}

// liftedQuery is a query text lexed: its tokens and its shape's key.
type liftedQuery struct {
	text   string
	tokens []lexer.Token
	key    string
}

// liftQuery lexes a text (false if it does not lex: gqlgen's parser reports why) and builds
// the key of its shape: each token's kind and value, except that a string literal (quoted or
// block) is the number of its distinct value in order of appearance.
func liftQuery(text string) (*liftedQuery, bool) {
	lx := lexer.New(&ast.Source{Input: text})
	// a token for every three bytes or so: a compact text is mostly one-letter punctuation
	lifted := &liftedQuery{text: text, tokens: make([]lexer.Token, 0, len(text)/3+8)}
	var key strings.Builder
	key.Grow(len(text) + 8)
	var strs distinctStrings
	var number [binary.MaxVarintLen64]byte
	for {
		tok, err := lx.ReadToken()
		if err != nil {
			return nil, false
		}
		lifted.tokens = append(lifted.tokens, tok)
		key.WriteByte(byte(tok.Kind))
		switch {
		case isString(tok.Kind):
			key.Write(binary.AppendUvarint(number[:0], uint64(strs.number(tok.Kind, tok.Value))))
		case tok.Value != "":
			key.Write(binary.AppendUvarint(number[:0], uint64(len(tok.Value))))
			key.WriteString(tok.Value)
		}
		if tok.Kind == lexer.EOF {
			break
		}
	}
	lifted.key = key.String()
	return lifted, true
}

func isString(kind lexer.Type) bool { return kind == lexer.String || kind == lexer.BlockString }

// distinctStrings numbers string literals by their kind and value (validation compares both).
type distinctStrings struct {
	seen  []lexer.Token
	index map[lexer.Token]int // once there are many: Pos is zeroed in the keys
}

func (d *distinctStrings) number(kind lexer.Type, value string) int {
	probe := lexer.Token{Kind: kind, Value: value}
	if d.index != nil {
		if n, ok := d.index[probe]; ok {
			return n
		}
		d.index[probe] = len(d.index)
		return len(d.index) - 1
	}
	for n, s := range d.seen {
		if s == probe {
			return n
		}
	}
	d.seen = append(d.seen, probe)
	if len(d.seen) > 16 {
		d.index = make(map[lexer.Token]int, 2*len(d.seen))
		for n, s := range d.seen {
			d.index[s] = n
		}
	}
	return len(d.seen) - 1
}
