package resolvers

import (
	"context"
	"encoding/json"
	"math"

	"github.com/99designs/gqlgen/graphql"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/graph/model"
)

// MaxPageSize caps `first` on every connection (the contract's 100).
const MaxPageSize = 100

// pageArgs checks first and after and returns the store's page request.
func pageArgs(first *int, after *string, defaultSize int) (db.Page, error) {
	size := defaultSize
	if first != nil {
		size = *first
	}
	if size < 0 || size > MaxPageSize {
		return db.Page{}, apperr.New(apperr.BadUserInput, "first must be between 0 and %d, got %d", MaxPageSize, size)
	}
	page := db.Page{Limit: size}
	if after != nil && *after != "" {
		id, err := model.DecodeCursor(*after)
		if err != nil {
			return db.Page{}, err
		}
		page.AfterID = id
	}
	return page, nil
}

// nestedPage looks ahead into the selection of the field being resolved (an object of one of
// the types satisfies) for the connection field name, and returns the page its arguments ask
// for: a root resolver then fetches that page with its own row in one statement and primes
// the nested field's loader, which so runs no query. ok is false when the connection is not
// selected or its arguments are not plain values; the nested field then loads (and reports
// bad arguments) as always. Only the first selection of the field is planned (an aliased
// second one loads).
func nestedPage(ctx context.Context, satisfies []string, name string, defaultSize int) (page db.Page, ok bool) {
	for _, field := range graphql.CollectFieldsCtx(ctx, satisfies) {
		if field.Name != name {
			continue
		}
		args := field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
		first, ok := plainInt(args["first"])
		if !ok {
			return db.Page{}, false
		}
		var after *string
		switch cursor := args["after"].(type) {
		case nil:
		case string:
			after = &cursor
		default:
			return db.Page{}, false
		}
		page, err := pageArgs(first, after, defaultSize)
		return page, err == nil
	}
	return db.Page{}, false
}

// plainInt reads an Int argument as the parser or the variables give it (nil: absent).
func plainInt(v any) (*int, bool) {
	var n int64
	switch v := v.(type) {
	case nil:
		return nil, true
	case int64:
		n = v
	case int:
		n = int64(v)
	case json.Number:
		parsed, err := v.Int64()
		if err != nil {
			return nil, false
		}
		n = parsed
	default:
		return nil, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, false
	}
	size := int(n)
	return &size, true
}
