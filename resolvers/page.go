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
// second one loads). columns are the bag columns that selection asks of its nodes
// (pageColumns), the key's under which the nested field looks the page up.
func nestedPage(ctx context.Context, satisfies []string, name string, defaultSize int) (page db.Page, columns db.BagColumns, ok bool) {
	for _, field := range graphql.CollectFieldsCtx(ctx, satisfies) {
		if field.Name != name {
			continue
		}
		opCtx := graphql.GetOperationContext(ctx)
		args := field.ArgumentMap(opCtx.Variables)
		first, ok := plainInt(args["first"])
		if !ok {
			return db.Page{}, 0, false
		}
		var after *string
		switch cursor := args["after"].(type) {
		case nil:
		case string:
			after = &cursor
		default:
			return db.Page{}, 0, false
		}
		page, err := pageArgs(first, after, defaultSize)
		return page, pageColumns(opCtx, field), err == nil
	}
	return db.Page{}, 0, false
}

// bagFieldColumns are the columns each field of Bag reads that is the bag's own column (no
// resolver); bags of which a query selects only these need no other column.
var bagFieldColumns = map[string]db.BagColumns{
	"__typename": 0, "id": db.BagColumnID, "qr": db.BagColumnQR, "type": db.BagColumnType,
	"status": db.BagColumnStatus, "childCount": db.BagColumnChildCount,
	"createdAt": db.BagColumnCreatedAt, "updatedAt": db.BagColumnUpdatedAt,
}

// scanFieldColumns are the columns each field of Scan reads: the scan's own columns, and for
// the objects it points at their id (their loaders read the rest).
var scanFieldColumns = map[string]db.ScanColumns{
	"__typename": 0, "id": db.ScanColumnID, "kind": db.ScanColumnKind, "at": db.ScanColumnAt,
	"bagQr": db.ScanColumnBagQR, "bag": db.ScanColumnBagID, "parent": db.ScanColumnParentID,
	"bill": db.ScanColumnBillID, "user": db.ScanColumnUserID, "area": db.ScanColumnAreaID,
}

// The types a selection's fragments may name on a connection, its edges and its nodes.
var (
	bagConnectionTypes  = []string{"BagConnection"}
	bagEdgeTypes        = []string{"BagEdge"}
	scanConnectionTypes = []string{"ScanConnection"}
	scanEdgeTypes       = []string{"ScanEdge"}
	scanTypes           = []string{"Scan", "Node"}
)

// pageColumns are the bag columns that a BagConnection field's selection asks of its nodes:
// zero (every column) when a node selects any other field than bagFieldColumns'. The root
// that plans the page and the connection's own resolver both derive the loader key's columns
// from the field this way, so the key a root primes is the key the field looks up.
func pageColumns(opCtx *graphql.OperationContext, connection graphql.CollectedField) db.BagColumns {
	return nodeColumns(opCtx, connection, bagConnectionTypes, bagEdgeTypes, bagTypes, bagFieldColumns)
}

// scanPageColumns are the scan columns that the ScanConnection field being resolved asks of
// its nodes (every column without a field context).
func scanPageColumns(ctx context.Context) db.ScanColumns {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return 0
	}
	return nodeColumns(graphql.GetOperationContext(ctx), fc.Field, scanConnectionTypes, scanEdgeTypes, scanTypes, scanFieldColumns)
}

// nodeColumns are the columns that a connection field's selection asks of its nodes (edges,
// node; fragments and directives collected as gqlgen collects them): the id and each field's
// columns, zero (every column) when a node selects a field the map does not hold.
func nodeColumns[C ~uint16](opCtx *graphql.OperationContext, connection graphql.CollectedField,
	connectionTypes, edgeTypes, nodeTypes []string, fieldColumns map[string]C) C {
	columns := C(1) // the id, first of every column list
	for _, edges := range graphql.CollectFields(opCtx, connection.Selections, connectionTypes) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(opCtx, edges.Selections, edgeTypes) {
			if node.Name != "node" {
				continue
			}
			for _, f := range graphql.CollectFields(opCtx, node.Selections, nodeTypes) {
				c, ok := fieldColumns[f.Name]
				if !ok {
					return 0
				}
				columns |= c
			}
		}
	}
	return columns
}

// selectedColumns are pageColumns of the connection field being resolved (every column
// without a field context).
func selectedColumns(ctx context.Context) db.BagColumns {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return 0
	}
	return pageColumns(graphql.GetOperationContext(ctx), fc.Field)
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
