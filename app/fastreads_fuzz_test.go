package app_test

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzFastReads generates queries over what the fast path of reads serves (the plain fields
// of Bag, Bill, Scan, User and Stats and their weights, the children, parentBags, scans, bags
// and bills connections, filters of bags, the scans' users, the stats of an area or all,
// aliases, named and
// inline fragments, __typename, @skip and @include with literals and variables, first and
// after values good and bad) as an admin, a dispatcher of the bags' area, a dispatcher of
// another area, a biller or nobody, over existing, missing and malformed keys, and holds the
// fast path's answers to gqlgen's, byte for byte, through HTTP. Every generated query is one
// the fast path must serve whenever gqlgen answers it without errors.
//
//	go test -run XXX -fuzz FuzzFastReads -fuzztime 2m ./app
func FuzzFastReads(f *testing.F) {
	for _, seed := range []string{"", "\x00\x01\x02\x03", "\x01\x05\x02\x07\x03\x01\x04\x09", "\x02\x02\x05\x01\x07\x03\x00\x08\x06",
		"\x03\x01\x02\x00\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5",
		// the stats of an area, a filtered bag list, the bills, the scans' users, a weight
		"\x01\x00\x03\x01\x00\x01\x01\x02\x03", "\x02\x00\x04\x01\x00\x01\x02\x01\x05\x00\x01\x01\x00\x02\x01\x04\x00\x01",
		"\x03\x01\x05\x01\x03\x00\x01\x00\x01\x02\x01\x0a\x0b\x01\x0c", "\x05\x03\x02\x01\x01\x03\x05\x03\x01\x04\x05\x04\x03\x02\x02\x03\x01",
		"\x01\x01\x00\x03\x05\x05\x05\x00\x05\x03"} {
		f.Add([]byte(seed))
	}
	p := newReadPair(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &queryGen{data: data, cursors: p.cursors}
		who := p.callers[g.pick(len(p.callers))]
		query, variables := g.query()
		served, answer := p.compare(t, who, query, variables)
		if want := !hasErrors(answer); served != want {
			t.Fatalf("%s %s %v: served by the fast path %v, want %v: %s", who.name, query, variables, served, want, answer)
		}
	})
}

// queryGen turns fuzz bytes into a query: each choice takes the next byte (0 once they run
// out, which ends every list).
type queryGen struct {
	data      []byte
	cursors   []string
	variables map[string]any
	declared  []string
	fragments []string
	names     int
}

func (g *queryGen) pick(n int) int {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return int(b) % n
}

func (g *queryGen) query() (string, map[string]any) {
	g.variables = map[string]any{}
	var roots []string
	for i := 0; i == 0 || i < 3 && g.pick(3) == 1; i++ {
		roots = append(roots, g.root(i))
	}
	doc := "{" + strings.Join(roots, " ") + "}"
	if len(g.declared) > 0 {
		doc = "query(" + strings.Join(g.declared, ", ") + ") " + doc
	}
	return doc + " " + strings.Join(g.fragments, " "), g.variables
}

func (g *queryGen) root(i int) string {
	alias := g.alias("r", i)
	switch g.pick(7) {
	case 0:
		qr := g.value("qr", "String!", []any{"SB00001", "SB00002", "sb00004", "SB00006", "C00001X03", "SB09999", "S?"})
		return alias + "bag(qr: " + qr + ")" + g.object("Bag", "children")
	case 1:
		arg := "billNumber: " + g.value("number", "String", []any{"FAST-1", "fast-2", "NOPE-1"})
		if g.pick(4) == 0 {
			arg = "id: " + g.value("id", "ID", []any{"QmlsbDox", "nope", nil})
		}
		return alias + "bill(" + arg + ")" + g.object("Bill", "parentBags")
	case 2:
		return alias + "scans" + g.page() + g.connection("Scan")
	case 3:
		area := ""
		if g.pick(2) == 1 {
			area = "(areaCode: " + g.value("area", "String", []any{"lucknow", "jaipur", nil, "nowhere"}) + ")"
		}
		return alias + "stats" + area + g.object("Stats", "")
	case 4:
		return alias + "bags" + g.bagFilter(g.page()) + g.connection("Bag")
	case 5:
		return alias + "bills" + g.page() + g.connection("Bill")
	default:
		return alias + "__typename"
	}
}

// fieldsOf are each type's fields the fast path serves, its connection aside.
var fieldsOf = map[string][]string{
	"Bag":            {"id", "qr", "type", "status", "childCount", "weightKg", "createdAt", "updatedAt"},
	"Bill":           {"id", "billNumber", "description", "destination", "vehicleNumber", "capacity", "status", "parentBagCount", "childBagCount", "totalWeightKg", "expectedWeightKg", "createdAt", "updatedAt", "completedAt"},
	"Scan":           {"id", "kind", "at", "bagQr"},
	"User":           {"username", "email", "role", "active", "createdAt", "lastLoginAt"},
	"Stats":          {"parentBags", "childBags", "bills", "openBills", "inProgressBills", "completedBills", "totalScans", "scansToday", "users"},
	"PageInfo":       {"hasNextPage", "endCursor"},
	"BagConnection":  {"edges", "pageInfo", "totalCount"},
	"ScanConnection": {"edges", "pageInfo"},
	"BillConnection": {"edges", "pageInfo", "totalCount"},
	"BagEdge":        {"cursor", "node"},
	"BillEdge":       {"cursor", "node"},
	"ScanEdge":       {"cursor", "node"},
}

// object is the selection set of a Bag, Bill, Scan, User or Stats; connection names the
// connection it may select (a root bag's or bill's) or a scan's "user", "" for none.
func (g *queryGen) object(typename, connection string) string {
	fields := fieldsOf[typename]
	if connection != "" {
		fields = append(fields[:len(fields):len(fields)], connection)
	}
	return g.selection(typename, fields, func(field string) string {
		switch {
		case field != connection:
			return field
		case field == "user":
			return field + g.object("User", "")
		}
		return field + g.page() + g.connection("Bag")
	})
}

// connection is the selection set of a BagConnection or ScanConnection of nodes.
func (g *queryGen) connection(node string) string {
	return g.selection(node+"Connection", fieldsOf[node+"Connection"], func(field string) string {
		switch field {
		case "edges":
			return field + g.selection(node+"Edge", fieldsOf[node+"Edge"], func(field string) string {
				if field == "node" && node == "Scan" {
					return field + g.object(node, "user")
				}
				if field == "node" {
					return field + g.object(node, "")
				}
				return field
			})
		case "pageInfo":
			return field + g.selection("PageInfo", fieldsOf["PageInfo"], func(field string) string { return field })
		}
		return field
	})
}

// selection picks fields of the type (at least one; __typename too), each maybe aliased,
// under @skip or @include, or inside an inline or named fragment; sub gives a picked field
// its arguments and selection.
func (g *queryGen) selection(typename string, fields []string, sub func(string) string) string {
	var out []string
	for i := 0; i == 0 || i < 8 && g.pick(4) != 0; i++ {
		name := "__typename"
		if k := g.pick(len(fields) + 1); k < len(fields) {
			name = fields[k]
		}
		field := g.alias(name, i) + sub(name) + g.condition()
		on := typename
		if name == "id" || name == "__typename" {
			on = g.condition(typename, "Node")
		}
		switch g.pick(6) {
		case 1:
			field = "... on " + on + " { " + field + " }"
		case 2:
			field = "..." + g.condition() + " { " + field + " }"
		case 3:
			g.names++
			name := fmt.Sprintf("F%d", g.names)
			g.fragments = append(g.fragments, "fragment "+name+" on "+on+" { "+field+" }")
			field = "..." + name + g.condition()
		}
		out = append(out, field)
	}
	return " { " + strings.Join(out, " ") + " }"
}

// condition, given types, picks a type condition the object satisfies (Node only for the
// types that implement it, and only around their id and __typename); without, it picks a
// directive or none.
func (g *queryGen) condition(types ...string) string {
	if len(types) > 0 {
		if types[0] == "Bag" || types[0] == "Bill" || types[0] == "Scan" {
			return types[g.pick(len(types))]
		}
		return types[0]
	}
	switch g.pick(8) {
	case 1:
		return " @skip(if: " + g.value("skip", "Boolean!", []any{true, false}) + ")"
	case 2:
		return " @include(if: " + g.value("include", "Boolean!", []any{true, false}) + ")"
	}
	return ""
}

func (g *queryGen) alias(name string, i int) string {
	if g.pick(3) == 0 {
		return ""
	}
	return fmt.Sprintf("%s_%d: ", name, i)
}

// bagFilter adds a filter of bags to a page's arguments (or none): some of its fields, each
// a literal or a variable.
func (g *queryGen) bagFilter(page string) string {
	choices := []struct {
		name, typ string
		values    []any
	}{
		{"type", "BagType", []any{"PARENT", "CHILD", nil}},
		{"status", "BagStatus", []any{"PENDING", "IN_PROGRESS", "COMPLETED"}},
		{"areaCode", "String", []any{"lucknow", "jaipur", "nowhere"}},
		{"qrPrefix", "String", []any{"SB0000", "c0", ""}},
		{"search", "String", []any{"X0", "0000"}},
		{"billed", "Boolean", []any{true, false, nil}},
		{"createdAfter", "Time", []any{"2000-01-01T00:00:00Z", "yesterday"}},
	}
	var fields []string
	for i := 0; i < 3 && g.pick(3) != 0; i++ {
		c := choices[g.pick(len(choices))]
		if !strings.Contains(strings.Join(fields, " "), c.name+":") {
			fields = append(fields, c.name+": "+g.value(c.name, c.typ, c.values))
		}
	}
	if len(fields) == 0 {
		return page
	}
	filter := "filter: {" + strings.Join(fields, ", ") + "}"
	if page == "" {
		return "(" + filter + ")"
	}
	return "(" + filter + ", " + page[1:]
}

// page is a connection's first and after, each absent, a literal or a variable.
func (g *queryGen) page() string {
	var args []string
	if g.pick(3) != 0 {
		args = append(args, "first: "+g.value("first", "Int", []any{1, 2, 5, 30, 50, 100, 0, -1, 101, nil}))
	}
	if g.pick(3) == 1 {
		after := []any{"bm9wZQ", nil}
		for _, c := range g.cursors {
			after = append(after, c)
		}
		args = append(args, "after: "+g.value("after", "String", after))
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

// value is one of the values as a literal or as a variable of the type (declared once per
// name: a second use of the name reuses its value).
func (g *queryGen) value(name, typ string, values []any) string {
	v := values[g.pick(len(values))]
	if _, declared := g.variables[name]; declared || g.pick(2) == 0 {
		if !declared {
			g.variables[name] = v
			g.declared = append(g.declared, "$"+name+": "+typ)
		}
		return "$" + name
	}
	if v == nil {
		return "null"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}
