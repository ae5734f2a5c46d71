package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"tracetrack/db"
	"tracetrack/graph/model"
)

// The fast path's plan of an operation: built per request from the operation's document
// (a walk over its few selections, with gqlgen's own field collection), so nothing is keyed
// by a document or held across requests.

type fieldKind uint8

const (
	kindTypename fieldKind = iota
	kindScalar
	kindRootBag
	kindRootBill
	kindRootScans
	kindRootStats
	kindRootBags
	kindRootBills
	// kindResolved: a field of a resolver that computes it from the object alone (a weight)
	kindResolved
	// kindUser: Scan.user, loaded for the whole page at once (fastreads.go, scanConnection)
	kindUser
	// kindConnection: Bag.children or Bill.parentBags of a root bag or bill.
	kindConnection
	kindEdges
	kindNode
	kindCursor
	kindPageInfo
	kindHasNextPage
	kindEndCursor
	kindTotalCount
)

// planField is one selected field: its response key, what it is, and what it needs.
type planField struct {
	alias    string
	kind     fieldKind
	typename string // kindTypename: the object's type
	// kindScalar: the writing of the object's field (a func(*writer, *T) bool of the
	// object's type T); kindResolved: its resolver, which writes what it resolves (a
	// func(*execution, *T) (bool, error)); and whether the schema forbids null
	scalar  any
	nonNull bool
	// the collected field of roots and connections (their resolvers look ahead into it) and
	// the arguments of roots and connections, coerced as gqlgen coerces them
	field          graphql.CollectedField
	qr             *string
	id, billNumber *string
	areaCode       *string
	bagFilter      *model.BagFilter
	first          *int
	after          *string
	// the selection of an object, connection, edge or page info
	fields []planField
}

// The plain fields (no resolver, loader or directive), each written as gqlgen's generated
// code writes it (graph/model's marshalers, the ids of db/globalid.go) but straight into the
// response (writer's scalars): a marshaler is a closure on the heap per value, three to five
// a scan of a page of 50. The functions report false for null.
var (
	bagScalars = map[string]func(*writer, *db.Bag) bool{
		"id":         func(w *writer, b *db.Bag) bool { return writeID(w, b, (*db.Bag).AppendGlobalID) },
		"qr":         func(w *writer, b *db.Bag) bool { return w.string(b.QR) },
		"type":       func(w *writer, b *db.Bag) bool { return w.string(string(b.Type)) },
		"status":     func(w *writer, b *db.Bag) bool { return w.string(string(b.Status)) },
		"childCount": func(w *writer, b *db.Bag) bool { return w.int(b.ChildCount) },
		"createdAt":  func(w *writer, b *db.Bag) bool { return w.time(b.CreatedAt) },
		"updatedAt":  func(w *writer, b *db.Bag) bool { return w.time(b.UpdatedAt) },
	}
	billScalars = map[string]func(*writer, *db.Bill) bool{
		"id":             func(w *writer, b *db.Bill) bool { return writeID(w, b, (*db.Bill).AppendGlobalID) },
		"billNumber":     func(w *writer, b *db.Bill) bool { return w.string(b.BillNumber) },
		"description":    func(w *writer, b *db.Bill) bool { return w.optionalString(b.Description) },
		"destination":    func(w *writer, b *db.Bill) bool { return w.optionalString(b.Destination) },
		"vehicleNumber":  func(w *writer, b *db.Bill) bool { return w.optionalString(b.VehicleNumber) },
		"capacity":       func(w *writer, b *db.Bill) bool { return w.int(b.Capacity) },
		"status":         func(w *writer, b *db.Bill) bool { return w.string(string(b.Status)) },
		"parentBagCount": func(w *writer, b *db.Bill) bool { return w.int(b.ParentBagCount) },
		"childBagCount":  func(w *writer, b *db.Bill) bool { return w.int(b.ChildBagCount) },
		"createdAt":      func(w *writer, b *db.Bill) bool { return w.time(b.CreatedAt) },
		"updatedAt":      func(w *writer, b *db.Bill) bool { return w.time(b.UpdatedAt) },
		"completedAt":    func(w *writer, b *db.Bill) bool { return w.optionalTime(b.CompletedAt) },
	}
	scanScalars = map[string]func(*writer, *db.Scan) bool{
		"id":    func(w *writer, s *db.Scan) bool { return writeID(w, s, (*db.Scan).AppendGlobalID) },
		"kind":  func(w *writer, s *db.Scan) bool { return w.string(string(s.Kind)) },
		"at":    func(w *writer, s *db.Scan) bool { return w.time(s.At) },
		"bagQr": func(w *writer, s *db.Scan) bool { return w.string(s.BagQR) },
	}
	// the user as the loader gives it: what the caller may not see of others is already
	// blanked (db.User.VisibleTo); id and area are resolvers, left to gqlgen
	userScalars = map[string]func(*writer, *db.User) bool{
		"username":    func(w *writer, u *db.User) bool { return w.string(u.Username) },
		"email":       func(w *writer, u *db.User) bool { return w.optionalString(u.Email) },
		"role":        func(w *writer, u *db.User) bool { return w.string(string(u.Role)) },
		"active":      func(w *writer, u *db.User) bool { return w.boolean(u.Active) },
		"createdAt":   func(w *writer, u *db.User) bool { return w.time(u.CreatedAt) },
		"lastLoginAt": func(w *writer, u *db.User) bool { return w.optionalTime(u.LastLoginAt) },
	}
	// the fields whose resolvers compute them from the object (no loader, no statement)
	bagResolved = map[string]func(*execution, *db.Bag) (bool, error){
		"weightKg": func(e *execution, b *db.Bag) (bool, error) {
			return float(e, b, e.f.bag.WeightKg)
		},
	}
	billResolved = map[string]func(*execution, *db.Bill) (bool, error){
		"totalWeightKg": func(e *execution, b *db.Bill) (bool, error) {
			return float(e, b, e.f.bill.TotalWeightKg)
		},
		"expectedWeightKg": func(e *execution, b *db.Bill) (bool, error) {
			return float(e, b, e.f.bill.ExpectedWeightKg)
		},
	}
	statsScalars = map[string]func(*writer, *db.Stats) bool{
		"parentBags":      func(w *writer, s *db.Stats) bool { return w.int(s.ParentBags) },
		"childBags":       func(w *writer, s *db.Stats) bool { return w.int(s.ChildBags) },
		"bills":           func(w *writer, s *db.Stats) bool { return w.int(s.Bills()) },
		"openBills":       func(w *writer, s *db.Stats) bool { return w.int(s.OpenBills) },
		"inProgressBills": func(w *writer, s *db.Stats) bool { return w.int(s.InProgressBills) },
		"completedBills":  func(w *writer, s *db.Stats) bool { return w.int(s.CompletedBills) },
		"totalScans":      func(w *writer, s *db.Stats) bool { return w.int(s.TotalScans) },
		"scansToday":      func(w *writer, s *db.Stats) bool { return w.int(s.ScansToday) },
		"users":           func(w *writer, s *db.Stats) bool { return w.int(s.Users) },
	}
)

// float resolves a Float! field and writes it as gqlgen's generated code does; an infinite
// or NaN value, which gqlgen's marshaler refuses, is left to gqlgen.
func float[T any](e *execution, obj *T, resolve func(context.Context, *T) (float64, error)) (bool, error) {
	v, err := resolve(e.ctx, obj)
	if err != nil {
		return false, err
	}
	return e.w.float(v)
}

// planner builds the plan of one operation; each method's ok is false for a selection the
// fast path leaves to gqlgen.
type planner struct {
	opCtx *graphql.OperationContext
	// satisfies are the types a selection's fragments may name on an object of each type
	// (gqlgen's "implementors": the type and its interfaces)
	satisfies map[string][]string
}

// collect is gqlgen's field collection of a selection set on an object that satisfies the
// types (the result is cached on the operation, where gqlgen's execution finds it if it runs
// instead). Left to gqlgen: deferred fields, two fields under one response key (which gqlgen
// resolves both of and writes the first of), and below the root fields with a directive in
// the schema.
func (p planner) collect(sel ast.SelectionSet, typename string) ([]graphql.CollectedField, bool) {
	fields := graphql.CollectFields(p.opCtx, sel, p.satisfies[typename])
	root := typename == "Query"
	for i, f := range fields {
		if len(f.Deferrables) > 0 || (!root && f.Name != "__typename" && len(f.Definition.Directives) > 0) {
			return nil, false
		}
		for _, g := range fields[:i] {
			if g.Alias == f.Alias {
				return nil, false
			}
		}
	}
	return fields, true
}

// selection plans the fields of a selection set on an object of the type: __typename here,
// every other field by plan, which is false for a field the fast path leaves to gqlgen.
func (p planner) selection(sel ast.SelectionSet, typename string,
	plan func(f graphql.CollectedField, pf *planField) bool) ([]planField, bool) {
	fields, ok := p.collect(sel, typename)
	if !ok {
		return nil, false
	}
	out := make([]planField, len(fields))
	for i, f := range fields {
		pf := &out[i]
		pf.alias = f.Alias
		if f.Name == "__typename" {
			pf.kind, pf.typename = kindTypename, typename
		} else if !plan(f, pf) {
			return nil, false
		}
	}
	return out, true
}

func (p planner) roots(sel ast.SelectionSet) ([]planField, bool) {
	return p.selection(sel, "Query", func(f graphql.CollectedField, root *planField) bool {
		if !onlyAuth(f.Definition) {
			return false
		}
		root.field = f
		args := f.ArgumentMap(p.opCtx.Variables)
		ok := false
		switch f.Name {
		case "bag":
			root.kind = kindRootBag
			qr, err := model.UnmarshalString(args["qr"])
			if err != nil {
				return false
			}
			root.qr = &qr
			root.fields, ok = planObject(p, f.Selections, "Bag", "children", bagScalars, bagResolved)
		case "bill":
			root.kind = kindRootBill
			if root.id, ok = optionalArgument(args, "id", model.UnmarshalID); !ok {
				return false
			}
			if root.billNumber, ok = optionalArgument(args, "billNumber", model.UnmarshalString); !ok {
				return false
			}
			root.fields, ok = planObject(p, f.Selections, "Bill", "parentBags", billScalars, billResolved)
		case "scans":
			root.kind = kindRootScans
			ok = args["filter"] == nil && p.list(root, args, f.Selections, "Scan", false,
				func(sel ast.SelectionSet) ([]planField, bool) {
					return planObject(p, sel, "Scan", "user", scanScalars, nil)
				})
		case "stats":
			root.kind = kindRootStats
			if root.areaCode, ok = optionalArgument(args, "areaCode", model.UnmarshalString); !ok {
				return false
			}
			root.fields, ok = planObject(p, f.Selections, "Stats", "", statsScalars, nil)
		case "bags":
			root.kind = kindRootBags
			if args["filter"] != nil {
				if root.bagFilter, ok = bagFilter(args["filter"]); !ok {
					return false
				}
			}
			ok = p.list(root, args, f.Selections, "Bag", true,
				func(sel ast.SelectionSet) ([]planField, bool) {
					return planObject(p, sel, "Bag", "", bagScalars, bagResolved)
				})
		case "bills":
			root.kind = kindRootBills
			ok = args["filter"] == nil && p.list(root, args, f.Selections, "Bill", true,
				func(sel ast.SelectionSet) ([]planField, bool) {
					return planObject(p, sel, "Bill", "", billScalars, billResolved)
				})
		}
		return ok
	})
}

// list plans a root list of nodes of the type: its page arguments and its connection
// (<type>Connection of <type>Edge, with totalCount when counted).
func (p planner) list(root *planField, args map[string]any, sel ast.SelectionSet, typename string, counted bool,
	node func(ast.SelectionSet) ([]planField, bool)) bool {
	var ok bool
	if root.first, root.after, ok = pageArguments(args); !ok {
		return false
	}
	root.fields, ok = p.connection(sel, typename+"Connection", counted, typename+"Edge", node)
	return ok
}

// onlyAuth: the root field's one directive is @auth open to every signed-in user, the one
// the fast path runs.
func onlyAuth(def *ast.FieldDefinition) bool {
	return len(def.Directives) == 1 && def.Directives[0].Name == "auth" && len(def.Directives[0].Arguments) == 0
}

// planObject plans the selection of a Bag, Bill, Scan, User or Stats: its plain fields, the
// fields its resolvers compute from it alone (resolved), and the connection of a root bag or
// bill (children, parentBags), whose page the root's resolver fetches in its own statement,
// or a scan's user (connection "user"; "" for neither).
func planObject[T any](p planner, sel ast.SelectionSet, typename, connection string,
	scalars map[string]func(*writer, *T) bool,
	resolved map[string]func(*execution, *T) (bool, error)) ([]planField, bool) {
	return p.selection(sel, typename, func(f graphql.CollectedField, pf *planField) bool {
		if marshal, ok := scalars[f.Name]; ok {
			pf.kind, pf.scalar, pf.nonNull = kindScalar, marshal, f.Definition.Type.NonNull
			return true
		}
		if resolve, ok := resolved[f.Name]; ok {
			pf.kind, pf.scalar, pf.nonNull = kindResolved, resolve, f.Definition.Type.NonNull
			return true
		}
		if connection == "" || f.Name != connection {
			return false
		}
		if connection == "user" {
			pf.kind, pf.field = kindUser, f
			var ok bool
			pf.fields, ok = planObject(p, f.Selections, "User", "", userScalars, nil)
			return ok
		}
		pf.kind, pf.field = kindConnection, f
		ok := false
		if pf.first, pf.after, ok = pageArguments(f.ArgumentMap(p.opCtx.Variables)); !ok {
			return false
		}
		pf.fields, ok = p.connection(f.Selections, "BagConnection", true, "BagEdge",
			func(sel ast.SelectionSet) ([]planField, bool) {
				return planObject(p, sel, "Bag", "", bagScalars, bagResolved)
			})
		return ok
	})
}

// connection plans a BagConnection or ScanConnection: edges (cursor, node), pageInfo, and
// totalCount where the type has it.
func (p planner) connection(sel ast.SelectionSet, typename string, counted bool, edgeName string,
	node func(ast.SelectionSet) ([]planField, bool)) ([]planField, bool) {
	return p.selection(sel, typename, func(f graphql.CollectedField, pf *planField) (ok bool) {
		switch f.Name {
		case "edges":
			pf.kind = kindEdges
			pf.fields, ok = p.edge(f.Selections, edgeName, node)
		case "pageInfo":
			pf.kind = kindPageInfo
			pf.fields, ok = p.pageInfo(f.Selections)
		case "totalCount":
			pf.kind, ok = kindTotalCount, counted
		}
		return ok
	})
}

func (p planner) edge(sel ast.SelectionSet, typename string,
	node func(ast.SelectionSet) ([]planField, bool)) ([]planField, bool) {
	return p.selection(sel, typename, func(f graphql.CollectedField, pf *planField) (ok bool) {
		switch f.Name {
		case "cursor":
			pf.kind, ok = kindCursor, true
		case "node":
			pf.kind = kindNode
			pf.fields, ok = node(f.Selections)
		}
		return ok
	})
}

func (p planner) pageInfo(sel ast.SelectionSet) ([]planField, bool) {
	return p.selection(sel, "PageInfo", func(f graphql.CollectedField, pf *planField) (ok bool) {
		switch f.Name {
		case "hasNextPage":
			pf.kind, ok = kindHasNextPage, true
		case "endCursor":
			pf.kind, ok = kindEndCursor, true
		}
		return ok
	})
}

// pageArguments coerces first and after as gqlgen's generated code does (graph/model's Int
// and String); ok is false for a value gqlgen refuses.
func pageArguments(args map[string]any) (first *int, after *string, ok bool) {
	if first, ok = optionalArgument(args, "first", model.UnmarshalInt); !ok {
		return nil, nil, false
	}
	after, ok = optionalArgument(args, "after", model.UnmarshalString)
	return first, after, ok
}

// optionalArgument is a nullable argument: nil when absent or null, else the coerced value.
func optionalArgument[T any](args map[string]any, name string, unmarshal func(any) (T, error)) (*T, bool) {
	v := args[name]
	if v == nil {
		return nil, true
	}
	value, err := unmarshal(v)
	return &value, err == nil
}

// bagFilter coerces a BagFilter argument as gqlgen's generated code does (graph/model's
// String, Boolean and Time; the enums as their String, which validation has checked); ok is
// false for a value gqlgen refuses or a field this does not know.
func bagFilter(v any) (*model.BagFilter, bool) {
	fields, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	var f model.BagFilter
	var enum *string
	for name := range fields {
		switch name {
		case "type":
			enum, ok = optionalArgument(fields, name, model.UnmarshalString)
			f.Type = (*db.BagType)(enum)
		case "status":
			enum, ok = optionalArgument(fields, name, model.UnmarshalString)
			f.Status = (*db.BagStatus)(enum)
		case "areaCode":
			f.AreaCode, ok = optionalArgument(fields, name, model.UnmarshalString)
		case "qrPrefix":
			f.QRPrefix, ok = optionalArgument(fields, name, model.UnmarshalString)
		case "search":
			f.Search, ok = optionalArgument(fields, name, model.UnmarshalString)
		case "billed":
			f.Billed, ok = optionalArgument(fields, name, graphql.UnmarshalBoolean)
		case "createdAfter":
			f.CreatedAfter, ok = optionalArgument(fields, name, model.UnmarshalTime)
		case "createdBefore":
			f.CreatedBefore, ok = optionalArgument(fields, name, model.UnmarshalTime)
		default:
			ok = false
		}
		if !ok {
			return nil, false
		}
	}
	return &f, true
}
