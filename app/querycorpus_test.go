package app

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"tracetrack/graph"
)

// QueryCase is one request of the query cache's corpus.
type QueryCase struct {
	Query         string
	OperationName string
	Variables     map[string]any
}

// QueryCacheCorpus are documents for the query cache's tests, valid and not, in families whose
// members mostly share a shape (and then must be answered from the cache exactly as parsed
// afresh). It needs bags SB00001 (with 30 children) and SB00002, and bill BILL-000001.
var QueryCacheCorpus = [][]QueryCase{
	cases( // the bag tree of side-by-side.sh, and errors after strings of other lengths
		`{bag(qr:"SB00001"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`,
		`{bag(qr:"SB00002"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`,
		`{bag(qr:"SB99999"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`,
		`{bag(qr:"S"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`,
		"{\n  bag(qr: \"SB00001\") {\n    qr\n    childCount\n    children(first: 30) { edges { node { qr createdAt } } }\n  }\n}",
		`{bag(qr:"SB0000\u0031"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`,
	),
	cases( // the bill page
		`{bill(billNumber:"BILL-000001"){billNumber parentBagCount parentBags(first:50){edges{node{qr childCount}}}}}`,
		`{bill(billNumber:"BILL-000002"){billNumber parentBagCount parentBags(first:50){edges{node{qr childCount}}}}}`,
		`{bill(billNumber:"B"){billNumber parentBagCount parentBags(first:50){edges{node{qr childCount}}}}}`,
	),
	cases( // errors located after strings of other lengths, lines and characters
		`{ x: bag(qr: "SB00001") { qr } bags(first: -1) { totalCount } }`,
		`{ x: bag(qr: "SB1") { qr } bags(first: -1) { totalCount } }`,
		"{ x: bag(qr: \"नमस्ते ☃ 😀\") { qr } bags(first: -1) { totalCount } }",
		"{ x: bag(qr: \"\"\"first\n  second\n  third\"\"\") { qr }\n   bags(first: -1) { totalCount } }",
		"{ x: bag(qr: \"\"\"first\r\n  second\"\"\") { qr }\r\n\tbags(first: -1) { totalCount } }",
		"\n\n   { x: bag(qr: \"SB00001\"),,, { qr }    bags(first: -1) { totalCount } }",
		`{ x: bag(qr: "SB00001") { qr } bill(id: "abc", billNumber: "BILL-000001") { billNumber } }`,
		`{ x: bag(qr: "SB0000000001") { qr } bill(id: "abcdefgh", billNumber: "B") { billNumber } }`,
		`{ bag(qr: "SB00001") { children(first: 2, after: "bad cursor") { edges { node { qr } } } } }`,
		`{ bag(qr: "SB00001") { children(first: 2, after: "a much longer bad cursor") { edges { node { qr } } } } }`,
		`{ a: bag(qr: "SB99999") { qr } b: bag(qr: "SB99998") { qr } }`,
		`{ a: bag(qr: "SB9") { qr } b: bag(qr: "SB99999999999") { qr } }`,
		"{ a: bag(qr: \"नमस्ते ☃ 😀\") { qr }\n\n b: bag(qr: \"x\") { qr } }",
		"{ a: bag(qr: \"\"\"first\n  second\n  third\"\"\") { qr }\n b: bag(qr: \"x\") { qr } }",
		"{ a: bag(qr: \"\"\"one\"\"\") { qr }\n b: bag(qr: \"x\") { qr } }",
	),
	cases( // fields of one response name must have equal arguments: the strings' equality is the shape's
		`{ a: bag(qr: "SB00001") { qr } a: bag(qr: "SB00001") { qr } }`,
		`{ a: bag(qr: "SB00001") { qr } a: bag(qr: "SB00002") { qr } }`,
		`{ a: bag(qr: "SB00002") { qr } a: bag(qr: "SB00002") { qr } }`,
		`{ a: bag(qr: "SB00002") { qr } a: bag(qr: """SB00002""") { qr } }`,
		`{ a: bags(filter: {qrPrefix: "SB", search: "1"}) { totalCount } a: bags(filter: {search: "1", qrPrefix: "SB"}) { totalCount } }`,
		`{ a: bags(filter: {qrPrefix: "SB", search: "1"}) { totalCount } a: bags(filter: {search: "SB", qrPrefix: "1"}) { totalCount } }`,
	),
	cases( // wrong types and bad enums, which no string content makes right
		`{ bag(qr: 5) { qr } }`,
		`{ bag(qr: true) { qr } }`,
		`{ bag(qr: null) { qr } }`,
		`{ bags(first: "5") { totalCount } }`,
		`{ bags(first: 99999999999) { totalCount } }`,
		`{ bags(first: 1.5) { totalCount } }`,
		`{ bags(first: -1) { totalCount } }`,
		`{ bags(filter: {type: "PARENT"}) { totalCount } }`,
		`{ bags(filter: {type: PARNT}) { totalCount } }`,
		`{ bags(filter: {type: PARENT, qrPrefix: "SB"}) { totalCount } }`,
		`{ bags(filter: {type: PARENT, qrPrefix: "ZZ"}) { totalCount } }`,
		`{ bags(filter: {type: PARENT, nope: "SB"}) { totalCount } }`,
		`{ bags(filter: {qrPrefix: ["SB"]}) { totalCount } }`,
		`{ bags(filter: {billed: "true"}) { totalCount } }`,
		`{ bill(id: 1) { billNumber } }`,
		`{ bill(id: "1") { billNumber } }`,
		`{ bill(id: "abc", billNumber: "BILL-000001") { billNumber } }`,
		`{ bill(billNumber: null) { billNumber } }`,
	),
	cases( // unknown fields and arguments
		`{ bag(qr: "SB00001") { qr nope } }`,
		`{ bag(qr: "SB00002") { qr nope } }`,
		`{ bag(qr: "SB00001", color: "red") { qr } }`,
		`{ bag(qr: "SB00001") }`,
		`{ bag { qr } }`,
	),
	cases( // custom scalars read their strings when the request runs
		`{ bags(filter: {createdAfter: "2020-01-01T00:00:00Z"}) { totalCount } }`,
		`{ bags(filter: {createdAfter: "2999-01-01T00:00:00Z"}) { totalCount } }`,
		`{ bags(filter: {createdAfter: "not a time"}) { totalCount } }`,
		`{ bags(filter: {createdAfter: 5}) { totalCount } }`,
		`{ scanSummary(groupBy: DAY, from: "2020-01-01T00:00:00Z", areaCode: "jaipur") { count } }`,
		`{ scanSummary(groupBy: DAY, from: "yesterday", areaCode: "nowhere") { count } }`,
		`{ bag(qr: "SB00001") { children(first: 2, after: "bad cursor") { edges { node { qr } } } } }`,
		`{ bag(qr: "SB00001") { children(first: 2, after: "") { edges { node { qr } } } } }`,
	),
	cases( // block strings, escapes and unicode
		`{ bag(qr: """SB00001""") { qr } }`,
		"{ bag(qr: \"\"\"\n    SB00002\n  \"\"\") { qr } }",
		`{ bag(qr: """SB\"""1""") { qr } }`,
		`{ bag(qr: "\u0053B00001") { qr } }`,
		`{ bag(qr: "\"quoted\" \\ \/ \b \f \n \r \t") { qr } }`,
		`{ bag(qr: "\uD83D\uDE00") { qr } }`,
		`{ bag(qr: "\u{1F600}") { qr } }`,
		`{ bag(qr: "\x41") { qr } }`,
		`{ bag(qr: "") { qr } }`,
		"{ bag(qr: \"tab\there\") { qr } }",
		`{ bag(qr: "unterminated) { qr } }`,
	),
	cases( // variables mixed with literals, and string defaults
		`query Q($q: String!) { bag(qr: $q) { qr } b: bags(filter: {qrPrefix: "SB"}) { totalCount } }`,
		`query Q($q: String!) { bag(qr: $q) { qr } b: bags(filter: {qrPrefix: "ZZ"}) { totalCount } }`,
		`query Q($q: Int!) { bag(qr: $q) { qr } b: bags(filter: {qrPrefix: "ZZ"}) { totalCount } }`,
		`query ($p: String = "SB") { bags(filter: {qrPrefix: $p}) { totalCount } }`,
		`query ($p: String = "ZZ") { bags(filter: {qrPrefix: $p}) { totalCount } }`,
		`query ($p: Int = "ZZ") { bags(filter: {qrPrefix: $p}) { totalCount } }`,
		`query ($f: BagFilter = {qrPrefix: "SB", type: PARENT}) { bags(filter: $f) { totalCount } }`,
		`query ($f: BagFilter = {qrPrefix: "ZZ", type: PARENT}) { bags(filter: $f) { totalCount } }`,
		`query ($t: Time = "2020-01-01T00:00:00Z") { bags(filter: {createdAfter: $t, qrPrefix: "SB"}) { totalCount } }`,
		`query ($t: Time = "garbage") { bags(filter: {createdAfter: $t, qrPrefix: "SB"}) { totalCount } }`,
		`query ($q: String!) { bag(qr: $q) { qr } }`,
		`query ($unused: String) { bag(qr: "SB00001") { qr } }`,
	),
	{
		{Query: `query Q($q: String!) { bag(qr: $q) { qr } b: bags(filter: {qrPrefix: "SB"}) { totalCount } }`, Variables: map[string]any{"q": "SB00001"}},
		{Query: `query Q($q: String!) { bag(qr: $q) { qr } b: bags(filter: {qrPrefix: "Q"}) { totalCount } }`, Variables: map[string]any{"q": "SB00002"}},
		{Query: `query Q($q: String!) { bag(qr: $q) { qr } b: bags(filter: {qrPrefix: "Q"}) { totalCount } }`, Variables: map[string]any{"q": 7}},
		{Query: `query ($p: String = "SB") { bags(filter: {qrPrefix: $p}) { totalCount } }`, Variables: map[string]any{"p": "ZZ"}},
		{Query: `query ($f: BagFilter = {qrPrefix: "SB"}) { bags(filter: $f) { totalCount } }`, Variables: map[string]any{"f": map[string]any{"type": "PARENT"}}},
	},
	cases( // fragments
		`query { bag(qr: "SB00001") { ...F } } fragment F on Bag { qr children(first: 2) { edges { node { qr } } } }`,
		`query { bag(qr: "SB00002") { ...F } } fragment F on Bag { qr children(first: 2) { edges { node { qr } } } }`,
		`fragment F on Query { bag(qr: "SB00001") { qr } } { ...F }`,
		`fragment F on Query { bag(qr: "SB99999") { qr } } { ...F }`,
		`query ($q: String!) { ...F } fragment F on Query { bag(qr: $q) { qr } x: bag(qr: "SB00002") { qr } }`,
		`query { ...F } fragment F on Query { bag(qr: "SB00001") { qr ...G } } fragment G on Bag { childCount x: children(first: 1, after: "x") { totalCount } }`,
		`query { ...F } fragment F on Query { bag(qr: "SB00002") { qr ...G } } fragment G on Bag { childCount x: children(first: 1, after: "y") { totalCount } }`,
		`{ ...F } fragment F on Query { ...F }`,
		`{ ...Missing }`,
		`{ bag(qr: "SB00001") { ... on Bag { qr } ... on Bill { billNumber } } }`,
		`{ bag(qr: "SB00001") { ... { qr } ... @include(if: true) { childCount } } }`,
		`{ node(id: "QmFnOjE=") { id ... on Bag { qr } } }`,
		`{ node(id: "not an id") { id ... on Bag { qr } } }`,
		`{ bag(qr: "SB00001") { qr } } fragment Unused on Bag { qr }`,
	),
	cases( // directives
		`{ bag(qr: "SB00001") { qr @include(if: true) childCount @skip(if: false) } }`,
		`{ bag(qr: "SB00002") { qr @include(if: true) childCount @skip(if: false) } }`,
		`{ bag(qr: "SB00001") { qr @include(if: false) childCount @skip(if: true) } }`,
		`{ bag(qr: "SB00001") { qr @include(if: "true") } }`,
		`{ bag(qr: "SB00001") { qr @include(if: TRUE) } }`,
		`{ bag(qr: "SB00001") { qr @deprecated(reason: "x") } }`,
		`{ bag(qr: "SB00001") { qr @unknown(a: "x") } }`,
		`{ bag(qr: "SB00001") { qr @include(if: true) @include(if: true) } }`,
		`query ($x: Boolean!) { bag(qr: "SB00001") { qr @include(if: $x) } }`,
		`query @include(if: true) { bag(qr: "SB00001") { qr } }`,
	),
	{ // two operations and operationName
		{Query: `query A { bag(qr: "SB00001") { qr } } query B { bill(billNumber: "BILL-000001") { billNumber } }`, OperationName: "A"},
		{Query: `query A { bag(qr: "SB00002") { qr } } query B { bill(billNumber: "BILL-000002") { billNumber } }`, OperationName: "B"},
		{Query: `query A { bag(qr: "SB00002") { qr } } query B { bill(billNumber: "BILL-000002") { billNumber } }`, OperationName: "A"},
		{Query: `query A { bag(qr: "SB00002") { qr } } query B { bill(billNumber: "BILL-000002") { billNumber } }`},
		{Query: `query A { bag(qr: "SB00002") { qr } } query B { bill(billNumber: "BILL-000002") { billNumber } }`, OperationName: "C"},
		{Query: `query A { bag(qr: "SB00002") { qr } } query A { bill(billNumber: "BILL-000002") { billNumber } }`, OperationName: "A"},
		{Query: `query A { bag(qr: "SB00002") { qr } } { bill(billNumber: "BILL-000002") { billNumber } }`},
		{Query: `query A { bag(qr: "SB00001") { qr } } mutation B { scanParent(qr: 5) { qr } }`, OperationName: "A"},
	},
	cases( // comments, descriptions, introspection, complexity
		"# the bag\n{ bag(qr: \"SB00001\") { qr } # its qr\n}",
		"# the bag\n{ bag(qr: \"SB00002\") { qr } # its qr\n}",
		"# another bag\n{ bag(qr: \"SB00002\") { qr } # its qr\n}",
		`"the bag" query Q { bag(qr: "SB00001") { qr } }`,
		`"the bag" query Q { bag(qr: "SB00002") { qr } }`,
		`{ __typename bag(qr: "SB00001") { __typename qr } }`,
		`{ __type(name: "Bag") { name fields { name } } }`,
		`{ __type(name: "Bill") { name fields { name } } }`,
		`{ bags(first: 1000, filter: {qrPrefix: "SB"}) { edges { node { children(first: 1000) { edges { node { scans(first: 1000) { edges { node { id } } } } } } } } } }`,
		`{ bags(first: 1000, filter: {qrPrefix: "ZZ"}) { edges { node { children(first: 1000) { edges { node { scans(first: 1000) { edges { node { id } } } } } } } } } }`,
		`{ bags(first: 2, filter: {qrPrefix: "SB"}) { edges { node { children(first: 2) { edges { node { scans(first: 2) { edges { node { id } } } } } } } } } }`,
	),
	cases( // not documents
		``,
		`   `,
		`# only a comment`,
		`{ bag(qr: "SB00001" { qr } }`,
		`fragment F on Bag { qr }`,
		`mutation { scanParent(qr: "SB77777") { qr } nope }`,
		`subscription { nope(x: "y") }`,
		`{ bag(qr: 'SB00001') { qr } }`,
	),
}

func cases(queries ...string) []QueryCase {
	out := make([]QueryCase, len(queries))
	for i, q := range queries {
		out[i] = QueryCase{Query: q}
	}
	return out
}

// ShapeKey is the query cache's key of a text ("" if the text does not lex).
func ShapeKey(query string) string {
	lifted, ok := liftQuery(query)
	if !ok {
		return ""
	}
	return lifted.key
}

// parseAndValidate does what gqlgen does with a text the cache does not hold (the server's
// token limit and rules), so the cache's answers can be compared with it.
func parseAndValidate(schema *ast.Schema, query string) (*ast.QueryDocument, gqlerror.List) {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, DefaultLimits().MaxTokens)
	if err != nil {
		return nil, gqlerror.List{err.(*gqlerror.Error)}
	}
	if len(doc.Operations) == 0 {
		return nil, gqlerror.List{gqlerror.Errorf("no operation provided")}
	}
	if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
		return nil, errs
	}
	return doc, nil
}

// Validates reports whether gqlgen would parse, validate and cache the text.
func Validates(query string) bool {
	_, errs := parseAndValidate(testSchema, query)
	return len(errs) == 0
}

var testSchema = graph.NewExecutableSchema(graph.Config{}).Schema()
