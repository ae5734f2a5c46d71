package app

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"tracetrack/db"
	"tracetrack/graph"
	"tracetrack/graph/model"
	"tracetrack/loaders"
	"tracetrack/metrics"
)

// fastReads is the last operation interceptor: it executes the commonest read queries itself
// and hands everything else to gqlgen untouched. gqlgen's execution costs the bag tree, the
// bill page and the newest scans most of their CPU: a goroutine per element of every list of
// objects (MarshalSliceConcurrently), and a FieldContext, closures and a context per field
// (about 4,750 allocations for a page of 50 scans), where a page is one SQL statement.
//
// A query is served here when every field it selects (after gqlgen's own field collection:
// fragments, aliases, @skip and @include) is one of the plain fields of Bag, Bill, Scan,
// User and Stats, the weights their resolvers compute, __typename, the connections
// Query.bags, Query.bills (unfiltered), Query.scans (unfiltered), Bag.children and
// Bill.parentBags of a root Query.bag or Query.bill, a scan's user, or the root Query.stats. What is not changed: the data comes from the same
// resolvers (so the same store calls, scope, loaders and one-statement plans), the root
// fields pass the same @auth directive, arguments are coerced and scalars written by the
// functions gqlgen's generated code calls (graph/model's), and every limit ran before
// (complexity, shape, budget: operation-context mutators and the interceptors before this
// one). Anything else, any error, and any null where the schema forbids one go to gqlgen, so
// errors stay exactly gqlgen's; the differential tests (fastreads_test.go) hold the two
// executions to byte-identical responses. No field middleware (AroundFields) may be added
// while this runs: these fields would skip it.
type fastReads struct {
	query      graph.QueryResolver
	bag        graph.BagResolver
	bill       graph.BillResolver
	scan       graph.ScanResolver
	connection graph.BagConnectionResolver
	directives graph.DirectiveRoot
	// withLoaders gives the operation the loaders of its actor, as gqlgen's execution gets
	// them from the response interceptor (which the fast path does not pass).
	withLoaders func(context.Context) context.Context
	// satisfies are the types a selection's fragments may name on an object of each type of
	// the schema: the type and its interfaces, as gqlgen's field collection is given them
	satisfies map[string][]string
	// served and declined count the operations (the tests check which execution ran).
	served, declined atomic.Int64
}

func newFastReads(cfg graph.Config, schema *ast.Schema, withLoaders func(context.Context) context.Context) *fastReads {
	satisfies := map[string][]string{}
	for name, def := range schema.Types {
		if def.Kind == ast.Object {
			satisfies[name] = append([]string{name}, def.Interfaces...)
		}
	}
	return &fastReads{query: cfg.Resolvers.Query(), bag: cfg.Resolvers.Bag(), bill: cfg.Resolvers.Bill(),
		scan: cfg.Resolvers.Scan(), connection: cfg.Resolvers.BagConnection(), directives: cfg.Directives, withLoaders: withLoaders,
		satisfies: satisfies}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = (*fastReads)(nil)

func (*fastReads) ExtensionName() string                   { return "FastReads" }
func (*fastReads) Validate(graphql.ExecutableSchema) error { return nil }

func (f *fastReads) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Query {
		return next(ctx)
	}
	if data, ok := f.execute(ctx, opCtx); ok {
		f.served.Add(1)
		metrics.FastReads.WithLabelValues("served").Inc()
		return graphql.OneShot(&graphql.Response{Data: data})
	}
	f.declined.Add(1)
	metrics.FastReads.WithLabelValues("declined").Inc()
	return next(ctx)
}

// execute plans the operation and runs it; ok is false when the plan does not cover the
// operation or the execution met what gqlgen must answer (an error, a forbidden null, a
// panic).
func (f *fastReads) execute(ctx context.Context, opCtx *graphql.OperationContext) (data []byte, ok bool) {
	p := planner{opCtx: opCtx, satisfies: f.satisfies}
	roots, planned := p.roots(opCtx.Operation.SelectionSet)
	if !planned {
		return nil, false
	}
	defer func() {
		if recover() != nil { // gqlgen runs it again and presents the panic its way
			data, ok = nil, false
		}
	}()
	e := &execution{f: f, ctx: f.withLoaders(ctx), w: writer{buf: make([]byte, 0, 8192)}}
	e.roots(roots)
	return e.w.buf, !e.failed && !e.w.invalid
}

// execution writes one operation's data.
type execution struct {
	f   *fastReads
	ctx context.Context
	w   writer
	// failed: gqlgen must answer (a resolver's error, a null a non-null field may not hold).
	failed bool
}

func (e *execution) roots(roots []planField) {
	e.w.open()
	for i, root := range roots {
		e.w.key(i, root.alias)
		switch root.kind {
		case kindTypename:
			e.w.string(root.typename)
		case kindRootBag:
			bag, err := e.resolveRoot(root, func(ctx context.Context) (any, error) { return e.f.query.Bag(ctx, *root.qr) })
			e.object(root, bag, err, func(b any) { writeObject(e, root.fields, b.(*db.Bag), children) })
		case kindRootBill:
			bill, err := e.resolveRoot(root, func(ctx context.Context) (any, error) {
				return e.f.query.Bill(ctx, root.id, root.billNumber)
			})
			e.object(root, bill, err, func(b any) { writeObject(e, root.fields, b.(*db.Bill), parentBags) })
		case kindRootScans:
			conn, err := e.resolveRoot(root, func(ctx context.Context) (any, error) {
				return e.f.query.Scans(ctx, nil, root.first, root.after)
			})
			e.object(root, conn, err, func(c any) { e.scanConnection(root.fields, c.(*model.ScanConnection)) })
		case kindRootBags:
			conn, err := e.resolveRoot(root, func(ctx context.Context) (any, error) {
				return e.f.query.Bags(ctx, root.bagFilter, root.first, root.after)
			})
			e.object(root, conn, err, func(c any) { e.bagConnection(root.fields, c.(*model.BagConnection)) })
		case kindRootBills:
			conn, err := e.resolveRoot(root, func(ctx context.Context) (any, error) {
				return e.f.query.Bills(ctx, nil, root.first, root.after)
			})
			e.object(root, conn, err, func(c any) { e.billConnection(root.fields, c.(*model.BillConnection)) })
		case kindRootStats:
			stats, err := e.resolveRoot(root, func(ctx context.Context) (any, error) { return e.f.query.Stats(ctx, root.areaCode) })
			e.object(root, stats, err, func(s any) { writeObject(e, root.fields, s.(*db.Stats), nil) })
		}
		if e.failed {
			return
		}
	}
	e.w.close()
}

// resolveRoot runs a root field's resolver behind the field's @auth directive.
func (e *execution) resolveRoot(root planField, resolve graphql.Resolver) (any, error) {
	return e.f.directives.Auth(e.fieldContext("Query", root), nil, resolve, nil)
}

// fieldContext is the context of the field's resolver on an object of the type, with the
// field context gqlgen gives it: the resolvers look ahead into their selection (a root plans
// its connection's page, a connection finds that page under the columns it selects).
func (e *execution) fieldContext(object string, f planField) context.Context {
	return graphql.WithFieldContext(e.ctx, &graphql.FieldContext{Object: object, Field: f.field,
		IsMethod: true, IsResolver: true})
}

// object writes a root field's object, or fails on the resolver's error. A typed nil (a
// *db.Bag that is nil) is null, which a non-null field may not be.
func (e *execution) object(root planField, v any, err error, write func(any)) {
	switch {
	case err != nil:
		e.failed = true
	case v == nil || v == (*db.Bag)(nil) || v == (*db.Bill)(nil) || v == (*model.ScanConnection)(nil) || v == (*db.Stats)(nil) ||
		v == (*model.BagConnection)(nil) || v == (*model.BillConnection)(nil):
		e.w.null()
		e.w.invalid = e.w.invalid || root.field.Definition.Type.NonNull
	default:
		write(v)
	}
}

// writeObject writes a Bag, Bill, Scan, User or Stats; connection fetches the connection a
// root bag or bill selects (nil for other objects).
func writeObject[T any](e *execution, fields []planField, obj *T,
	connection func(*execution, *T, planField) (*model.BagConnection, error)) {
	e.w.open()
	for i, f := range fields {
		e.w.key(i, f.alias)
		switch f.kind {
		case kindTypename:
			e.w.string(f.typename)
		case kindScalar:
			if !f.scalar.(func(*writer, *T) bool)(&e.w, obj) && f.nonNull {
				e.w.invalid = true
			}
		case kindResolved:
			written, err := f.scalar.(func(*execution, *T) (bool, error))(e, obj)
			if err != nil {
				e.failed = true
				return
			}
			if !written && f.nonNull {
				e.w.invalid = true
			}
		case kindConnection:
			conn, err := connection(e, obj, f)
			if err != nil || conn == nil {
				e.failed = true
				return
			}
			e.bagConnection(f.fields, conn)
		case kindUser:
			e.scanUser(f, any(obj).(*db.Scan))
		}
		if e.failed {
			return
		}
	}
	e.w.close()
}

// scanUser writes a scan's user through its resolver (the page's users are in the loader's
// cache by then: scanConnection).
func (e *execution) scanUser(f planField, scan *db.Scan) {
	user, err := e.f.scan.User(e.fieldContext("Scan", f), scan)
	switch {
	case err != nil:
		e.failed = true
	case user == nil:
		e.w.null()
	default:
		writeObject(e, f.fields, user, nil)
	}
}

func children(e *execution, b *db.Bag, f planField) (*model.BagConnection, error) {
	return e.f.bag.Children(e.fieldContext("Bag", f), b, f.first, f.after)
}

func parentBags(e *execution, b *db.Bill, f planField) (*model.BagConnection, error) {
	return e.f.bill.ParentBags(e.fieldContext("Bill", f), b, f.first, f.after)
}

func (e *execution) bagConnection(fields []planField, c *model.BagConnection) {
	writeConnection(e, fields, c.Edges, c.PageInfo, (*model.BagEdge).Cursor, bagEdgeNode,
		func() (int, error) { return e.f.connection.TotalCount(e.ctx, c) })
}

func (e *execution) billConnection(fields []planField, c *model.BillConnection) {
	writeConnection(e, fields, c.Edges, c.PageInfo, (*model.BillEdge).Cursor, billEdgeNode,
		func() (int, error) { return c.TotalCount, nil })
}

func (e *execution) scanConnection(fields []planField, c *model.ScanConnection) {
	if selectsUser(fields) {
		e.loadUsers(c.Edges)
	}
	writeConnection(e, fields, c.Edges, c.PageInfo, (*model.ScanEdge).Cursor, scanEdgeNode, nil)
}

// writeConnection writes a connection: its edges, page info and, when it has one (the plan
// selects it only then), its count.
func writeConnection[E any](e *execution, fields []planField, edges []*E, info *model.PageInfo,
	cursor func(*E) string, node func(*execution, []planField, *E), count func() (int, error)) {
	e.w.open()
	for i, f := range fields {
		e.w.key(i, f.alias)
		switch f.kind {
		case kindTypename:
			e.w.string(f.typename)
		case kindEdges:
			writeEdges(e, f.fields, edges, cursor, node)
		case kindPageInfo:
			e.pageInfo(f.fields, info)
		case kindTotalCount:
			n, err := count()
			if err != nil {
				e.failed = true
				return
			}
			e.w.int(n)
		}
	}
	e.w.close()
}

// writeEdges writes a connection's edges: each one's cursor (encoded only when selected, as
// gqlgen calls Cursor) and node.
func writeEdges[E any](e *execution, fields []planField, edges []*E, cursor func(*E) string,
	node func(*execution, []planField, *E)) {
	e.w.openList()
	for j, edge := range edges {
		e.w.item(j)
		e.w.open()
		for i, f := range fields {
			e.w.key(i, f.alias)
			switch f.kind {
			case kindTypename:
				e.w.string(f.typename)
			case kindCursor:
				e.w.string(cursor(edge))
			case kindNode:
				node(e, f.fields, edge)
			}
		}
		e.w.close()
	}
	e.w.closeList()
}

func bagEdgeNode(e *execution, fields []planField, edge *model.BagEdge) {
	writeObject(e, fields, edge.Node, nil)
}

func billEdgeNode(e *execution, fields []planField, edge *model.BillEdge) {
	writeObject(e, fields, edge.Node, nil)
}

func scanEdgeNode(e *execution, fields []planField, edge *model.ScanEdge) {
	writeObject(e, fields, edge.Node, nil)
}

// selectsUser: the plan of a scan connection selects its nodes' user.
func selectsUser(connection []planField) bool {
	for _, edges := range connection {
		for _, node := range edges.fields {
			if edges.kind == kindEdges && node.kind == kindNode &&
				slices.ContainsFunc(node.fields, func(f planField) bool { return f.kind == kindUser }) {
				return true
			}
		}
	}
	return false
}

// loadUsers asks the loader for the users of the page's scans at once, as gqlgen's
// concurrent execution of the edges does: one batch, where writing the scans one after
// another would wait out the loader's batch window for each. Each scan's user is then
// resolved from its cache; an error is the resolver's to report.
func (e *execution) loadUsers(edges []*model.ScanEdge) {
	ids := make([]int64, 0, len(edges))
	for _, edge := range edges {
		if id := edge.Node.UserID; id != nil && !slices.Contains(ids, *id) {
			ids = append(ids, *id)
		}
	}
	if len(ids) > 0 {
		loaders.For(e.ctx).UserByID().LoadMany(e.ctx, ids)()
	}
}

func (e *execution) pageInfo(fields []planField, p *model.PageInfo) {
	e.w.open()
	for i, f := range fields {
		e.w.key(i, f.alias)
		switch f.kind {
		case kindTypename:
			e.w.string(f.typename)
		case kindHasNextPage:
			e.w.boolean(p.HasNextPage)
		case kindEndCursor:
			e.w.optionalString(p.EndCursor)
		}
	}
	e.w.close()
}

// writer collects the data's JSON.
type writer struct {
	buf []byte
	// invalid: a non-null field got null, which gqlgen answers with an error.
	invalid bool
}

func (w *writer) open()      { w.buf = append(w.buf, '{') }
func (w *writer) close()     { w.buf = append(w.buf, '}') }
func (w *writer) openList()  { w.buf = append(w.buf, '[') }
func (w *writer) closeList() { w.buf = append(w.buf, ']') }

// key writes the i-th key of an object. A response key is a GraphQL name
// ([_A-Za-z][_0-9A-Za-z]*), which JSON needs no escape for.
func (w *writer) key(i int, name string) {
	w.item(i)
	w.buf = append(append(append(w.buf, '"'), name...), '"', ':')
}

func (w *writer) item(i int) {
	if i > 0 {
		w.buf = append(w.buf, ',')
	}
}

// The scalars as graph/model's marshalers write them, appended to the response; each
// reports false for null (which it writes). fastreads_writer_test.go holds them to the
// marshalers byte for byte.

// string is graphql.MarshalString (model.MarshalString): quoted, with '"', '\' and the
// control characters escaped. Those are single bytes in UTF-8 that no other character's
// encoding holds, so a byte walk escapes what gqlgen's walk over runes escapes.
func (w *writer) string(s string) bool {
	const hex = "0123456789ABCDEF"
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		w.buf = append(w.buf, s[start:i]...)
		switch c {
		case '\t':
			w.buf = append(w.buf, `\t`...)
		case '\r':
			w.buf = append(w.buf, `\r`...)
		case '\n':
			w.buf = append(w.buf, `\n`...)
		case '\\':
			w.buf = append(w.buf, `\\`...)
		case '"':
			w.buf = append(w.buf, `\"`...)
		default:
			w.buf = append(w.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	w.buf = append(append(w.buf, s[start:]...), '"')
	return true
}

// optionalString is a nullable String.
func (w *writer) optionalString(s *string) bool {
	if s == nil {
		return w.null()
	}
	return w.string(*s)
}

// time is model.MarshalTime: RFC 3339 with nanoseconds, quoted; null for the zero time.
func (w *writer) time(t time.Time) bool {
	if t.IsZero() {
		return w.null()
	}
	w.buf = append(t.AppendFormat(append(w.buf, '"'), time.RFC3339Nano), '"')
	return true
}

// optionalTime is a nullable Time.
func (w *writer) optionalTime(t *time.Time) bool {
	if t == nil {
		return w.null()
	}
	return w.time(*t)
}

// boolean is graphql.MarshalBoolean.
func (w *writer) boolean(b bool) bool {
	w.buf = strconv.AppendBool(w.buf, b)
	return true
}

// int is model.MarshalInt.
func (w *writer) int(n int) bool {
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	return true
}

// float is graphql.MarshalFloatContext ("%g", which is strconv's shortest 'g'); it refuses
// what the marshaler refuses (infinities, NaN) with the marshaler's error.
func (w *writer) float(f float64) (bool, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false, errors.New("cannot marshal infinite no NaN float values")
	}
	w.buf = strconv.AppendFloat(w.buf, f, 'g', -1, 64)
	return true, nil
}

// writeID is model.MarshalID of the object's global id (db's AppendGlobalID), which is
// base64 (URL alphabet, no padding): nothing in it needs escaping.
func writeID[T any](w *writer, obj *T, appendID func(*T, []byte) []byte) bool {
	w.buf = append(appendID(obj, append(w.buf, '"')), '"')
	return true
}

func (w *writer) null() bool {
	w.buf = append(w.buf, "null"...)
	return false
}
