package app

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/graph"
	"tracetrack/graph/model"
)

// Limits is the query budget: what a single request may ask of the server. Everything is
// checked before a resolver runs, so an abusive query never reaches the database.
type Limits struct {
	// MaxComplexity bounds the estimated number of field values a response may hold: a list
	// field costs (its page size) x (the cost of one element).
	MaxComplexity int
	// MaxDepth bounds how deeply selections nest (edges and node count as levels).
	MaxDepth int
	// MaxFields bounds the number of field selections after fragments are expanded, so
	// thousands of aliases of one field cannot multiply the work.
	MaxFields int
	// MaxTokens bounds what the parser reads.
	MaxTokens int
	// MaxBodyBytes bounds the request body; a larger one gets HTTP 413.
	MaxBodyBytes int64
}

// DefaultLimits admit the deepest legitimate screen (bills -> parent bags -> children ->
// creator, 50 x 50 x 30) and refuse anything far past it.
func DefaultLimits() Limits {
	return Limits{
		MaxComplexity: 500_000,
		MaxDepth:      15,
		MaxFields:     500,
		MaxTokens:     10_000,
		MaxBodyBytes:  1 << 20,
	}
}

// Most rows a nested list can hold whatever `first` says (SPEC: 30 children a parent, 500
// parents a bill); fixed lists without paging get an estimate.
const (
	maxChildrenEstimate = 30
	maxBillParents      = 500
	fixedListEstimate   = 100
)

// complexity returns the per-field cost functions of the budget.
func complexity() graph.ComplexityRoot {
	var c graph.ComplexityRoot
	c.Query.Bags = func(child int, _ *model.BagFilter, first *int, _ *string) int { return pageCost(child, first, 50, 0) }
	c.Query.Bills = func(child int, _ *model.BillFilter, first *int, _ *string) int { return pageCost(child, first, 50, 0) }
	c.Query.Scans = func(child int, _ *model.ScanFilter, first *int, _ *string) int { return pageCost(child, first, 50, 0) }
	c.Query.Users = func(child int, _ *db.Role, _ *string, first *int, _ *string) int {
		return pageCost(child, first, 50, 0)
	}
	c.Query.Areas = func(child int) int { return 1 + 10*child }
	c.Query.ScanSummary = func(child int, _ model.ScanGrouping, _, _ *time.Time, _ *string) int {
		return 1 + fixedListEstimate*child
	}
	c.Query.BillSummary = func(child int, _ model.BillGrouping, _, _ *time.Time) int { return 1 + fixedListEstimate*child }
	c.Bag.Children = func(child int, first *int, _ *string) int { return pageCost(child, first, 30, maxChildrenEstimate) }
	c.Bag.Scans = func(child int, first *int, _ *string) int { return pageCost(child, first, 20, 0) }
	c.Bill.ParentBags = func(child int, first *int, _ *string) int { return pageCost(child, first, 50, maxBillParents) }
	return c
}

// pageCost is the cost of a paged list: one for the field plus a page of elements. A larger
// `first` than the cap is refused later by the resolver; here it only must not overflow.
func pageCost(child int, first *int, defaultSize, most int) int {
	n := defaultSize
	if first != nil {
		n = max(0, min(*first, 1_000))
	}
	if most > 0 {
		n = min(n, most)
	}
	return 1 + n*child
}

// shapeLimit is the gqlgen extension that enforces MaxDepth and MaxFields on a document
// right after the transport has read it and before gqlgen parses and validates it: the
// validation rules are quadratic in the fields of a selection set (overlapping fields are
// compared pairwise), so a few documents repeating one field thousands of times would tie up
// the cores for seconds before a limit checked after validation refused them. The document is
// parsed here once more (linear, under the token limit); one whose shape is in the query cache
// passed this check when the shape was first seen (depth and fields do not depend on the
// strings) and is not parsed again.
type shapeLimit struct {
	limits Limits
	cache  *documentCache
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l shapeLimit) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil
	}
	if l.cache.knows(ctx, params.Query) {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, l.limits.MaxTokens)
	if err != nil {
		return nil // gqlgen parses it again and answers the syntax error with its code
	}
	return checkShape(doc, l.limits)
}

// checkShape refuses a document whose operations together select more than MaxFields fields
// (fragments expanded: a spread counts its fragment's fields each time), nest deeper than
// MaxDepth, or of which one fragment alone does, used or not (validation reads them all).
// Each fragment is measured once, so the check is linear in the document's size whatever
// its spreads multiply to; a fragment that spreads itself is refused as validation would.
func checkShape(doc *ast.QueryDocument, limits Limits) *gqlerror.Error {
	m := shapeMeter{fragments: map[string]*ast.FragmentDefinition{}, measured: map[string]shape{},
		measuring: map[string]bool{}, most: limits.MaxFields + 1}
	for _, f := range doc.Fragments {
		m.fragments[f.Name] = f
	}
	var total shape
	for _, op := range doc.Operations {
		s, err := m.selections(op.SelectionSet)
		if err != nil {
			return err
		}
		total = total.and(s, m.most)
	}
	for _, f := range doc.Fragments {
		s, err := m.fragment(f.Name)
		if err != nil {
			return err
		}
		total.depth = max(total.depth, s.depth)
		total.fields = max(total.fields, s.fields)
	}
	if total.fields > limits.MaxFields {
		return tooComplex("the query selects more than %d fields (aliases and fragments included), the most allowed", limits.MaxFields)
	}
	if total.depth > limits.MaxDepth {
		return tooComplex("the query nests deeper than %d levels, the most allowed", limits.MaxDepth)
	}
	return nil
}

// shape is what a selection set selects: its fields after fragments are expanded (counted
// up to a cap, so that fragment bombs cannot overflow) and how deeply its fields nest.
type shape struct{ fields, depth int }

// and is the shape of two selection sets side by side.
func (s shape) and(t shape, most int) shape {
	return shape{fields: min(s.fields+t.fields, most), depth: max(s.depth, t.depth)}
}

// shapeMeter measures selection sets, remembering each fragment's shape.
type shapeMeter struct {
	fragments map[string]*ast.FragmentDefinition
	measured  map[string]shape
	measuring map[string]bool
	most      int
}

func (m *shapeMeter) selections(set ast.SelectionSet) (shape, *gqlerror.Error) {
	var total shape
	for _, sel := range set {
		var s shape
		var err *gqlerror.Error
		switch x := sel.(type) {
		case *ast.Field:
			s, err = m.selections(x.SelectionSet)
			s = shape{fields: min(s.fields+1, m.most), depth: s.depth + 1}
		case *ast.InlineFragment:
			s, err = m.selections(x.SelectionSet)
		case *ast.FragmentSpread:
			s, err = m.fragment(x.Name)
		}
		if err != nil {
			return shape{}, err
		}
		total = total.and(s, m.most)
	}
	return total, nil
}

// fragment measures a fragment once; an unknown one counts nothing (validation reports it).
func (m *shapeMeter) fragment(name string) (shape, *gqlerror.Error) {
	if s, ok := m.measured[name]; ok {
		return s, nil
	}
	def := m.fragments[name]
	if def == nil {
		return shape{}, nil
	}
	if m.measuring[name] {
		err := gqlerror.Errorf("cannot spread fragment %q within itself: a fragment may not include itself, directly or through others", name)
		errcode.Set(err, errcode.ValidationFailed)
		return shape{}, err
	}
	m.measuring[name] = true
	s, err := m.selections(def.SelectionSet)
	delete(m.measuring, name)
	if err != nil {
		return shape{}, err
	}
	m.measured[name] = s
	return s, nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": string(apperr.QueryTooComplex)}
	return err
}

// checkBody refuses a POST that GraphQL could not use, before GraphQL reads it: a body over
// the limit (413; read here, at most the limit, so a body without Content-Length is caught
// too) or a content type other than JSON (415). Each gets a coded error in the GraphQL
// response shape; checkRequests then checks that the body is one GraphQL request.
func checkBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !isJSON(r.Header.Get("Content-Type")) {
			writeGraphQLError(w, r, nil, apperr.New(apperr.BadUserInput,
				"send the request as Content-Type: application/json with {\"query\": ..., \"variables\": ...}").
				WithStatus(http.StatusUnsupportedMediaType))
			return
		}
		if r.ContentLength > limit {
			writeTooLarge(w, r, limit)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			writeGraphQLError(w, r, nil, apperr.New(apperr.BadUserInput, "the request body could not be read"))
			return
		}
		if int64(len(body)) > limit {
			writeTooLarge(w, r, limit)
			return
		}
		r.Body = &readBody{Reader: bytes.NewReader(body), bytes: body}
		next.ServeHTTP(w, r)
	})
}

// readBody is a request body checkBody has read: checkRequest decodes its bytes without
// reading them again, and gqlgen reads it as a body.
type readBody struct {
	*bytes.Reader
	bytes []byte
}

func (*readBody) Close() error { return nil }

// isJSON: the Content-Type is application/json (parameters such as charset allowed).
func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	return mediaType == "application/json"
}

func writeTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	writeGraphQLError(w, r, nil, apperr.New(apperr.BadUserInput,
		"the request body is larger than %d bytes, the most allowed", limit).WithStatus(http.StatusRequestEntityTooLarge))
}

// countRequestStatements gives a plain HTTP request one statement counter from its start
// (DebugSQLCount only), so that extensions.sqlStatements counts the token lookup too, not
// only the operation's statements. Websockets pass: their operations get a counter each.
func countRequestStatements(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, counter := db.WithStatementCounter(r.Context())
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestCounterKey{}, counter)))
	})
}

type requestCounterKey struct{}

// countStatements counts the SQL statements of an operation (and of its HTTP request before
// it: the token lookup) and reports them in extensions.sqlStatements (DebugSQLCount only: it
// tells clients about the server's work).
func countStatements(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	counter, _ := ctx.Value(requestCounterKey{}).(*db.StatementCounter)
	if counter == nil {
		ctx, counter = db.WithStatementCounter(ctx)
	}
	handle := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handle(ctx)
		if resp != nil {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["sqlStatements"] = counter.Count()
		}
		return resp
	}
}
