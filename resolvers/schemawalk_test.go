package resolvers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"tracetrack/internal/apitest"
)

// The schema walker reads the running server's schema by introspection and writes, for every
// root field, a selection of every field of every type it reaches (interfaces and unions through
// inline fragments) down to walkDepth entities, and every combination of argument values a
// fixture offers. The isolation tests run what it writes; nothing in it names a field of ours,
// so a field added to the schema is walked without anyone touching this file.

const introspectionQuery = `{ __schema {
	queryType { name } mutationType { name } subscriptionType { name }
	types { kind name
		fields(includeDeprecated: true) { name args { name defaultValue type { ...T } } type { ...T } }
		inputFields { name defaultValue type { ...T } }
		possibleTypes { name }
		enumValues(includeDeprecated: true) { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

type typeRef struct {
	Kind   string
	Name   string
	OfType *typeRef
}

// named is the type under the list and non-null wrappers.
func (r typeRef) named() string {
	for r.OfType != nil {
		r = *r.OfType
	}
	return r.Name
}

func (r typeRef) required() bool { return r.Kind == "NON_NULL" }

// listOf is the element type of a list (under an optional non-null), and whether it is one.
func (r typeRef) listOf() (typeRef, bool) {
	if r.Kind == "NON_NULL" {
		r = *r.OfType
	}
	if r.Kind == "LIST" {
		return *r.OfType, true
	}
	return r, false
}

// String writes the type as a variable definition does: [String!]!.
func (r typeRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	}
	return r.Name
}

type inputValue struct {
	Name         string
	DefaultValue *string
	Type         typeRef
}

type schemaField struct {
	Name string
	Args []inputValue
	Type typeRef
}

type schemaType struct {
	Kind          string
	Name          string
	Fields        []schemaField
	InputFields   []inputValue
	PossibleTypes []struct{ Name string }
	EnumValues    []struct{ Name string }
}

type schema struct {
	roots map[string]string // "query", "mutation", "subscription" -> type name
	types map[string]*schemaType
}

func introspect(t *testing.T, env *apitest.Env, token string) *schema {
	t.Helper()
	var got struct {
		Schema struct {
			QueryType, MutationType, SubscriptionType *struct{ Name string }
			Types                                     []*schemaType
		} `json:"__schema"`
	}
	env.MustDo(t, token, introspectionQuery, nil, &got)
	s := &schema{roots: map[string]string{}, types: map[string]*schemaType{}}
	for op, root := range map[string]*struct{ Name string }{"query": got.Schema.QueryType,
		"mutation": got.Schema.MutationType, "subscription": got.Schema.SubscriptionType} {
		if root != nil {
			s.roots[op] = root.Name
		}
	}
	for _, ty := range got.Schema.Types {
		s.types[ty.Name] = ty
	}
	return s
}

func (s *schema) rootFields(op string) []schemaField {
	if name, ok := s.roots[op]; ok {
		return s.types[name].Fields
	}
	return nil
}

func (s *schema) isLeaf(name string) bool {
	k := s.types[name].Kind
	return k == "SCALAR" || k == "ENUM"
}

// isEntity says whether entering the type goes one level deeper: things with an identity
// (an id field) and abstract types. Connections, edges, page infos and results are wrappers.
func (s *schema) isEntity(name string) bool {
	ty := s.types[name]
	if ty.Kind == "INTERFACE" || ty.Kind == "UNION" {
		return true
	}
	for _, f := range ty.Fields {
		if f.Name == "id" {
			return true
		}
	}
	return false
}

// walkDepth is how many entities deep selections go below a root field (the root's own
// entity is the first): bills -> parentBags -> children -> scans is 4.
const walkDepth = 4

// nestedPage is the page size asked of nested lists, so the walk's answers stay small.
const nestedPage = 3

// selector writes selection sets and remembers which fields they selected.
type selector struct {
	s *schema
	// covered is every Type.field some selection selected.
	covered map[string]bool
	// unfillable is every nested argument that is required and that the walker cannot fill.
	unfillable map[string]bool
	memo       map[string]string
}

func newSelector(s *schema) *selector {
	return &selector{s: s, covered: map[string]bool{}, unfillable: map[string]bool{}, memo: map[string]string{}}
}

// selection is the selection set of a root field's type.
func (b *selector) selection(typeName string) string {
	if b.s.isLeaf(typeName) {
		return ""
	}
	if sel, ok := b.memo[typeName]; ok {
		return sel
	}
	depth := 0
	if b.s.isEntity(typeName) {
		depth = 1
	}
	sel := b.selectionAt(typeName, depth, map[string]bool{}, nil)
	b.memo[typeName] = sel
	return sel
}

// conflicting are the field names that possible types of an interface or union declare with
// different types (Bag.status is a BagStatus, Bill.status a BillStatus): selected side by
// side in its inline fragments they make the document invalid, so they are aliased.
func (s *schema) conflicting(ty *schemaType) map[string]bool {
	types := map[string]string{}
	out := map[string]bool{}
	for _, p := range ty.PossibleTypes {
		for _, f := range s.types[p.Name].Fields {
			if seen, ok := types[f.Name]; ok && seen != f.Type.String() {
				out[f.Name] = true
			}
			types[f.Name] = f.Type.String()
		}
	}
	return out
}

// responseName is the field as selected: aliased (status_Bag: status) when it conflicts.
func responseName(typeName, field string, alias map[string]bool) string {
	if alias[field] {
		return field + "_" + typeName + ": " + field
	}
	return field
}

// selectionAt selects every field of the type; fields leading to an entity deeper than
// walkDepth, or to a field already on the path (a cycle), are left out. alias names the
// fields to alias (the type is one of an abstract type's).
func (b *selector) selectionAt(typeName string, depth int, onPath, alias map[string]bool) string {
	ty := b.s.types[typeName]
	var sb strings.Builder
	sb.WriteString("{ __typename")
	switch ty.Kind {
	case "INTERFACE", "UNION":
		conflicting := b.s.conflicting(ty)
		for _, p := range ty.PossibleTypes {
			fmt.Fprintf(&sb, " ... on %s %s", p.Name, b.selectionAt(p.Name, depth, onPath, conflicting))
		}
	case "OBJECT":
		for _, f := range ty.Fields {
			key := typeName + "." + f.Name
			target := f.Type.named()
			name := responseName(typeName, f.Name, alias)
			if b.s.isLeaf(target) {
				b.covered[key] = true
				sb.WriteString(" " + name + b.nestedArgs(key, f))
				continue
			}
			next := depth
			if b.s.isEntity(target) {
				next++
			}
			// a cycle is an entity's field met again below itself (Bag.children under
			// Bag.children); wrappers (edges, node) recur under every list and are no cycle
			cycles := b.s.isEntity(typeName)
			if next > walkDepth || cycles && onPath[key] {
				continue
			}
			b.covered[key] = true
			if cycles {
				onPath[key] = true
			}
			sb.WriteString(" " + name + b.nestedArgs(key, f) + " " + b.selectionAt(target, next, onPath, nil))
			if cycles {
				delete(onPath, key)
			}
		}
	default:
		panic("selection of " + ty.Kind + " " + typeName)
	}
	sb.WriteString(" }")
	return sb.String()
}

// nestedArgs are the arguments of a nested field: a small page for `first`, the defaults for
// the rest. A required argument cannot be guessed here: it is reported.
func (b *selector) nestedArgs(key string, f schemaField) string {
	var args []string
	for _, a := range f.Args {
		switch {
		case a.Name == "first" && a.Type.named() == "Int":
			args = append(args, fmt.Sprintf("first: %d", nestedPage))
		case a.Type.required() && a.DefaultValue == nil:
			b.unfillable[fmt.Sprintf("%s(%s: %s)", key, a.Name, a.Type)] = true
		}
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

// omitted stands for an optional argument left out (its default applies).
type omittedArg struct{}

var omitted any = omittedArg{}

// argSource offers the values to try for an argument (or input field) of a named type; ok
// false means it has none, which the walk reports.
type argSource func(owner, name string, ty typeRef) (values []any, ok bool)

// maxVariants bounds the combinations tried for one root field.
const maxVariants = 400

// variant is one call of a root field: its arguments (omitted ones absent).
type variant map[string]any

// variants returns the calls to make of a root field, and the arguments the source could not
// fill. Arguments that name things (ID and String: QRs, ids, area codes, bill numbers) are
// combined in every way, so a lucknow parent meets a jaipur child; the others (enums, input
// objects, times, numbers, booleans) vary one at a time over each of those combinations.
func (s *schema) variants(owner string, f schemaField, source argSource) ([]variant, []string) {
	keys := []variant{{}}
	var plains []argValues
	args, unfilled := s.argValues(owner, f, source)
	for _, a := range args {
		values := a.values
		if named := a.arg.Type.named(); named != "ID" && named != "String" {
			plains = append(plains, a)
			continue
		}
		var next []variant
		for _, v := range keys {
			for _, value := range values {
				next = append(next, v.with(a.arg.Name, value))
			}
		}
		keys = next
	}
	var out []variant
	for _, k := range keys {
		base := k
		for _, p := range plains {
			base = base.with(p.arg.Name, p.values[0])
		}
		out = append(out, base)
		for _, p := range plains {
			for _, value := range p.values[1:] {
				out = append(out, base.with(p.arg.Name, value))
			}
		}
	}
	if len(out) > maxVariants {
		unfilled = append(unfilled, fmt.Sprintf("%s: %d combinations of arguments (more than %d): offer fewer values", owner+"."+f.Name, len(out), maxVariants))
		out = out[:maxVariants]
	}
	return out, unfilled
}

// argValues is an argument of a root field and the values the walk tries for it.
type argValues struct {
	arg    inputValue
	values []any
}

// argValues are the arguments of a root field the source offers values for, and the ones it
// could not fill.
func (s *schema) argValues(owner string, f schemaField, source argSource) ([]argValues, []string) {
	var out []argValues
	var unfilled []string
	for _, a := range f.Args {
		values, missing := s.values(owner+"."+f.Name, a, source)
		unfilled = append(unfilled, missing...)
		if len(values) > 0 {
			out = append(out, argValues{a, values})
		}
	}
	return out, unfilled
}

// with is a copy of the variant with the argument set (or left out, for omitted).
func (v variant) with(name string, value any) variant {
	c := variant{}
	for k, x := range v {
		c[k] = x
	}
	if value == omitted {
		delete(c, name)
	} else {
		c[name] = value
	}
	return c
}

// values are the candidates of one argument: the source's for scalars and enums (every enum
// value when it has none), one object per input field value for input objects, and the
// omission when the argument is optional.
func (s *schema) values(owner string, a inputValue, source argSource) ([]any, []string) {
	var out []any
	if !a.Type.required() || a.DefaultValue != nil {
		out = append(out, omitted)
	}
	elem, isList := a.Type.listOf()
	named := s.types[a.Type.named()]
	switch {
	case named.Kind == "INPUT_OBJECT" && !isList:
		objects, missing := s.inputObjects(named, source)
		return append(out, objects...), missing
	case named.Kind == "ENUM" && !isList:
		if vs, ok := source(owner, a.Name, a.Type); ok {
			return append(out, vs...), nil
		}
		for _, e := range named.EnumValues {
			out = append(out, e.Name)
		}
		return out, nil
	case named.Kind == "ENUM" && isList && s.types[elem.named()].Kind == "ENUM":
		var all []string
		for _, e := range named.EnumValues {
			all = append(all, e.Name)
		}
		return append(out, all), nil
	}
	vs, ok := source(owner, a.Name, a.Type)
	if !ok {
		return out, []string{fmt.Sprintf("%s(%s: %s)", owner, a.Name, a.Type)}
	}
	return append(out, vs...), nil
}

// inputObjects are the values of an input object: its required fields filled with their first
// candidate, then once more with each candidate of each field.
func (s *schema) inputObjects(ty *schemaType, source argSource) ([]any, []string) {
	base := map[string]any{}
	candidates := map[string][]any{}
	var missing []string
	for _, f := range ty.InputFields {
		vs, m := s.values(ty.Name, f, source)
		missing = append(missing, m...)
		var real []any
		for _, v := range vs {
			if v != omitted {
				real = append(real, v)
			}
		}
		candidates[f.Name] = real
		if f.Type.required() && f.DefaultValue == nil && len(real) > 0 {
			base[f.Name] = real[0]
		}
	}
	out := []any{copyWith(base, "", nil)}
	names := make([]string, 0, len(candidates))
	for name := range candidates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range candidates[name] {
			out = append(out, copyWith(base, name, v))
		}
	}
	return out, missing
}

func copyWith(m map[string]any, key string, value any) map[string]any {
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	if key != "" {
		c[key] = value
	}
	return c
}

// operation writes the document calling the root field with the variant's arguments, passed
// as variables.
func (s *schema) operation(op string, f schemaField, v variant, selection string) string {
	var defs, args []string
	for _, a := range f.Args {
		if _, ok := v[a.Name]; ok {
			defs = append(defs, fmt.Sprintf("$%s: %s", a.Name, a.Type))
			args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
		}
	}
	doc := op
	if len(defs) > 0 {
		doc += "(" + strings.Join(defs, ", ") + ")"
	}
	doc += " { " + f.Name
	if len(args) > 0 {
		doc += "(" + strings.Join(args, ", ") + ")"
	}
	return doc + " " + selection + " }"
}

// walkCall is one call of a walk: a root field with one variant of its arguments.
type walkCall struct {
	name, doc, token string
	vars             variant
}

// run makes the calls, three at a time, each sent copies times at once (two: a double tap or
// a retry racing its first try), and hands each answer to check; a document the server
// refuses fails the test (the walker wrote it wrong, and the call checks nothing).
func (f *isoFixture) run(t *testing.T, op string, calls []walkCall, copies int, check func(walkCall, *apitest.Response)) {
	t.Helper()
	work := make(chan walkCall)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cl := range work {
				var same sync.WaitGroup
				for range copies {
					same.Add(1)
					go func() {
						defer same.Done()
						resp := f.env.DoNoT(cl.token, cl.doc, cl.vars)
						if msg, refused := refusedDocument(resp); refused {
							t.Errorf("%s %s: the server refused the walk's document, so the call checks nothing: %.300s", op, cl.name, msg)
						}
						check(cl, resp)
					}()
				}
				same.Wait()
			}
		}()
	}
	for _, cl := range calls {
		work <- cl
	}
	close(work)
	wg.Wait()
}

// refusedDocument returns the message of a document the server refused before running it
// (HTTP 422 not about a variable's value): the walker wrote an invalid selection, and the
// call checked nothing.
func refusedDocument(resp *apitest.Response) (string, bool) {
	if resp.Status != http.StatusUnprocessableEntity || len(resp.Errors) == 0 || strings.HasPrefix(resp.Errors[0].Message, "variable $") {
		return "", false
	}
	return resp.Errors[0].Message, true
}

// uncovered lists the fields of the types reachable from the walked roots that no selection
// selected: a type the depth never reaches, or a field only a cycle leads to.
func (b *selector) uncovered(roots []string) []string {
	seen := map[string]bool{}
	var missing []string
	var visit func(name string)
	visit = func(name string) {
		if seen[name] || b.s.isLeaf(name) {
			return
		}
		seen[name] = true
		ty := b.s.types[name]
		for _, p := range ty.PossibleTypes {
			visit(p.Name)
		}
		if ty.Kind == "INTERFACE" {
			return // its fields are selected on its types
		}
		for _, f := range ty.Fields {
			if !b.covered[name+"."+f.Name] {
				missing = append(missing, name+"."+f.Name)
			}
			visit(f.Type.named())
		}
	}
	for _, r := range roots {
		visit(r)
	}
	sort.Strings(missing)
	return missing
}

func mustMarshal(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// TestSchemaWalkerReportsWhatItCannotWalk: an argument without values, a required nested
// argument and a field beyond the depth are reported, not skipped.
func TestSchemaWalkerReportsWhatItCannotWalk(t *testing.T) {
	t.Parallel()
	named := func(kind, name string) typeRef { return typeRef{Kind: kind, Name: name} }
	required := func(r typeRef) typeRef { return typeRef{Kind: "NON_NULL", OfType: &r} }
	id := schemaField{Name: "id", Type: required(named("SCALAR", "ID"))}
	chain := func(name, next string) *schemaType {
		return &schemaType{Kind: "OBJECT", Name: name, Fields: []schemaField{id, {Name: "next", Type: named("OBJECT", next)}}}
	}
	s := &schema{roots: map[string]string{"query": "Query"}, types: map[string]*schemaType{
		"ID":     {Kind: "SCALAR", Name: "ID"},
		"Weird":  {Kind: "SCALAR", Name: "Weird"},
		"Query":  {Kind: "OBJECT", Name: "Query", Fields: []schemaField{{Name: "thing", Type: named("OBJECT", "Thing"), Args: []inputValue{{Name: "weird", Type: required(named("SCALAR", "Weird"))}}}}},
		"Thing":  {Kind: "OBJECT", Name: "Thing", Fields: []schemaField{id, {Name: "history", Type: named("OBJECT", "Level2"), Args: []inputValue{{Name: "since", Type: required(named("SCALAR", "Weird"))}}}}},
		"Level2": chain("Level2", "Level3"),
		"Level3": chain("Level3", "Level4"),
		"Level4": chain("Level4", "Level5"),
		"Level5": {Kind: "OBJECT", Name: "Level5", Fields: []schemaField{id}},
	}}
	knowsNothing := func(string, string, typeRef) ([]any, bool) { return nil, false }
	_, unfilled := s.variants("Query", s.types["Query"].Fields[0], knowsNothing)
	if len(unfilled) != 1 || unfilled[0] != "Query.thing(weird: Weird!)" {
		t.Errorf("unfilled root argument: %v, want [Query.thing(weird: Weird!)]", unfilled)
	}
	sel := newSelector(s)
	sel.selection("Thing")
	if !sel.unfillable["Thing.history(since: Weird!)"] || len(sel.unfillable) != 1 {
		t.Errorf("unfillable nested arguments: %v, want Thing.history(since: Weird!)", sel.unfillable)
	}
	if missing := sel.uncovered([]string{"Thing"}); !slices.Equal(missing, []string{"Level4.next", "Level5.id"}) {
		t.Errorf("fields beyond the depth: %v, want [Level4.next Level5.id]", missing)
	}
}

// TestSchemaWalkerNestsLists: a list inside a list of the same kind goes as deep as the depth
// allows (its edges and node are wrappers, not a cycle).
func TestSchemaWalkerNestsLists(t *testing.T) {
	t.Parallel()
	object := func(name string, fields ...schemaField) *schemaType {
		return &schemaType{Kind: "OBJECT", Name: name, Fields: fields}
	}
	field := func(name, kind, target string) schemaField {
		return schemaField{Name: name, Type: typeRef{Kind: kind, Name: target}}
	}
	id := field("id", "SCALAR", "ID")
	s := &schema{types: map[string]*schemaType{
		"ID":       {Kind: "SCALAR", Name: "ID"},
		"Item":     object("Item", id, field("items", "OBJECT", "ItemConn"), field("other", "OBJECT", "Other")),
		"Other":    object("Other", id, field("items", "OBJECT", "ItemConn")),
		"ItemConn": object("ItemConn", field("edges", "OBJECT", "ItemEdge")),
		"ItemEdge": object("ItemEdge", field("node", "OBJECT", "Item")),
	}}
	sel := newSelector(s).selection("Item")
	// Item > other > items > Item, and Item > items > Item > other > items > Item
	if n := strings.Count(sel, "other { __typename id items { __typename edges { __typename node {"); n != 2 {
		t.Errorf("lists in lists: %d, want 2, in %s", n, sel)
	}
}
