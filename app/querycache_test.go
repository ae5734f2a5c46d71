package app

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

func TestBoundedCacheRefusesLongText(t *testing.T) {
	ctx := context.Background()
	queries := newDocumentCache(10)
	persisted := newBoundedCache(10, func(_, query string) string { return query })
	for _, tc := range []struct {
		text string
		kept bool
	}{
		{"{ me { id } }", true},
		{"{ me { id } }" + strings.Repeat("#", maxCachedQueryBytes-13), true},
		{"{ me { id } }" + strings.Repeat("#", maxCachedQueryBytes-12), false},
		{"# " + strings.Repeat("x", 1<<20) + "\n{ me { id } }", false},
	} {
		doc, errs := parseAndValidate(testSchema, tc.text)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		queries.Add(ctx, tc.text, doc)
		persisted.Add(ctx, "hash", tc.text)
		_, inQueries := queries.Get(ctx, tc.text)
		got, inPersisted := persisted.Get(ctx, "hash")
		if inQueries != tc.kept || (inPersisted && got == tc.text) != tc.kept {
			t.Errorf("%d bytes: kept by the query cache %v, by the persisted-query cache %v; want %v",
				len(tc.text), inQueries, inPersisted && got == tc.text, tc.kept)
		}
	}
}

// TestDocumentCacheAnswersAsParsed runs the corpus through the cache as gqlgen does (look up,
// else parse, validate and add): every document the cache hands out is exactly the document
// that parsing and validating the text gives, positions, strings and resolved definitions
// included, and only a text that validates is answered from the cache.
func TestDocumentCacheAnswersAsParsed(t *testing.T) {
	ctx := context.Background()
	hits := 0
	for _, family := range QueryCacheCorpus {
		cache := newDocumentCache(100)
		for _, tc := range family {
			fresh, errs := parseAndValidate(testSchema, tc.Query)
			got, hit := cache.Get(ctx, tc.Query)
			switch {
			case hit && len(errs) > 0:
				t.Errorf("%q is answered from the cache, but it does not validate: %v", tc.Query, errs)
			case hit:
				hits++
				if !reflect.DeepEqual(got, fresh) {
					t.Errorf("%q: the cached copy differs from the parsed document", tc.Query)
				}
			case len(errs) == 0:
				cache.Add(ctx, tc.Query, fresh)
				if _, again := cache.Get(ctx, tc.Query); !again && len(tc.Query) <= maxCachedQueryBytes {
					t.Errorf("%q validates, but the cache does not keep it", tc.Query)
				}
			}
		}
	}
	if hits < 30 {
		t.Errorf("%d answers from the cache, want at least 30: the corpus's families share shapes", hits)
	}
}

// The copies are independent: a request's document does not change when another request of
// the shape gets its copy, and the cached document keeps its own strings.
func TestDocumentCacheCopiesDoNotShareStrings(t *testing.T) {
	ctx := context.Background()
	cache := newDocumentCache(10)
	const first, second = `{ bag(qr: "SB00001") { qr } }`, `{ bag(qr: "SB00002") { qr } }`
	doc, _ := parseAndValidate(testSchema, first)
	cache.Add(ctx, first, doc)
	a, hitA := cache.Get(ctx, second)
	b, hitB := cache.Get(ctx, `{ bag(qr: "SB00003") { qr } }`)
	if !hitA || !hitB {
		t.Fatal("a text of a cached shape is not answered from the cache")
	}
	for want, d := range map[string]*ast.QueryDocument{"SB00001": doc, "SB00002": a, "SB00003": b} {
		if got := d.Operations[0].SelectionSet[0].(*ast.Field).Arguments[0].Value.Raw; got != want {
			t.Errorf("qr %q, want %q", got, want)
		}
	}
}

// A description is no value: a text with another description is parsed afresh.
func TestDocumentCacheKeepsDescriptions(t *testing.T) {
	ctx := context.Background()
	cache := newDocumentCache(10)
	const described = `"the bag" query Q { bag(qr: "SB00001") { qr } }`
	doc, errs := parseAndValidate(testSchema, described)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cache.Add(ctx, described, doc)
	if _, hit := cache.Get(ctx, `"the bag" query Q { bag(qr: "SB00002") { qr } }`); !hit {
		t.Error("another qr under the same description is not answered from the cache")
	}
	if _, hit := cache.Get(ctx, `"another bag" query Q { bag(qr: "SB00001") { qr } }`); hit {
		t.Error("another description is answered from the cache")
	}
}

// FuzzDocumentShape checks the key: two texts of one key are the same tokens but for the
// contents of their strings, which are equal in the same places; a text respelled (its
// strings replaced, its whitespace changed) keeps its key and its validity; and a copy of a
// cached document for the respelled text is exactly what parsing and validating it gives.
func FuzzDocumentShape(f *testing.F) {
	for _, family := range QueryCacheCorpus {
		for i, tc := range family {
			f.Add(tc.Query, family[(i+1)%len(family)].Query)
		}
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, query, other string) {
		a, ok := liftQuery(query)
		if !ok {
			return
		}
		if b, ok := liftQuery(other); ok && b.key == a.key {
			sameButStrings(t, a.tokens, b.tokens)
		}
		respelled := respell(a.tokens, other)
		b, ok := liftQuery(respelled)
		if !ok || b.key != a.key {
			t.Fatalf("%q respelled as %q changes its key", query, respelled)
		}
		docA, errsA := parseAndValidate(testSchema, query)
		docB, errsB := parseAndValidate(testSchema, respelled)
		if (len(errsA) == 0) != (len(errsB) == 0) {
			t.Fatalf("%q (errors %v) respelled as %q (errors %v): validity changed", query, errsA, respelled, errsB)
		}
		if len(errsA) > 0 || len(query) > maxCachedQueryBytes || len(respelled) > maxCachedQueryBytes {
			return
		}
		cache := newDocumentCache(1)
		cache.Add(ctx, query, docA)
		if _, kept := cache.Get(ctx, query); !kept {
			t.Fatalf("%q validates, but the cache does not keep it", query)
		}
		got, hit := cache.Get(ctx, respelled)
		if !hit {
			if _, shape := cache.lookup(ctx, query); len(shape.fixed) == 0 {
				t.Fatalf("%q respelled as %q is not answered from the cache", query, respelled)
			}
			return // its descriptions changed
		}
		if !reflect.DeepEqual(got, docB) {
			t.Fatalf("%q respelled as %q: the cached copy differs from the parsed document", query, respelled)
		}
	})
}

func sameButStrings(t *testing.T, a, b []lexer.Token) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("one key, %d and %d tokens", len(a), len(b))
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || (!isString(a[i].Kind) && a[i].Value != b[i].Value) {
			t.Fatalf("one key, token %d differs: %v and %v", i, a[i], b[i])
		}
		for j := range i {
			if isString(a[i].Kind) && isString(a[j].Kind) &&
				(a[i].Kind == a[j].Kind && a[i].Value == a[j].Value) != (b[i].Kind == b[j].Kind && b[i].Value == b[j].Value) {
				t.Fatalf("one key, strings %d and %d are equal in one text only", j, i)
			}
		}
	}
}

// respell writes tokens as a new text: the same tokens, each distinct string replaced by
// another distinct string made from seed, and whitespace chosen by seed.
func respell(tokens []lexer.Token, seed string) string {
	seed = strings.ToValidUTF8(seed, "?")
	spaces := []string{" ", "\n", "\t", ",", "\r\n", "   ", "\n\n  "}
	var out strings.Builder
	var strs distinctStrings
	for i, tok := range tokens {
		if tok.Kind == lexer.EOF {
			break
		}
		if i > 0 {
			out.WriteString(spaces[(len(seed)+i)%len(spaces)])
		}
		var n int
		piece := seed
		if isString(tok.Kind) {
			n = strs.number(tok.Kind, tok.Value)
			if len(seed) > 0 {
				piece = seed[:utf8RuneStart(seed, (n*7)%len(seed))]
			}
		}
		switch tok.Kind {
		case lexer.String:
			out.WriteString(quoteGraphQL(fmt.Sprintf("%s~%d", piece, n)))
		case lexer.BlockString:
			fmt.Fprintf(&out, `"""%s%d"""`, alphanumeric(piece), n)
		case lexer.Comment:
			out.WriteString(tok.Value + "\n")
		case lexer.Name, lexer.Int, lexer.Float:
			out.WriteString(tok.Value)
		default:
			out.WriteString(tok.Kind.String())
		}
	}
	return out.String()
}

func utf8RuneStart(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func quoteGraphQL(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func alphanumeric(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

// BenchmarkDocumentCache compares a hit of a new text (lex, key, copy) and of a text seen
// before with what a miss costs (parse and validate), for the bag tree of side-by-side.sh:
//
//	go test -run XXX -bench DocumentCache -benchmem ./app
func BenchmarkDocumentCache(b *testing.B) {
	const tree = `{bag(qr:"SB%05d"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = fmt.Sprintf(tree, i)
	}
	for _, run := range []struct {
		name string
		text func(i int) string
	}{
		{"hit", func(i int) string { return texts[i%len(texts)] }},
		{"same-text", func(int) string { return texts[0] }},
	} {
		b.Run(run.name, func(b *testing.B) {
			ctx := context.Background()
			cache := newDocumentCache(10)
			doc, _ := parseAndValidate(testSchema, texts[0])
			cache.Add(ctx, texts[0], doc)
			b.ReportAllocs()
			for i := range b.N {
				if _, hit := cache.Get(ctx, run.text(i)); !hit {
					b.Fatal("miss")
				}
			}
		})
	}
	b.Run("parse-and-validate", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if _, errs := parseAndValidate(testSchema, texts[i%len(texts)]); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	})
}
