package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestQueryBudget(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.Limits = app.Limits{MaxComplexity: 1000, MaxDepth: 5, MaxFields: 20, MaxTokens: 200, MaxBodyBytes: 4096}
	})
	_, token := env.NewUser(t, db.RoleAdmin, "")

	aliases := func(n int) string { return aliased("", "areas { code }", n) }
	nested := func(depth int) string {
		// bag -> children -> edges -> node: three levels per step
		q := "qr"
		for range depth {
			q = "children { edges { node { " + q + " } } }"
		}
		return "{ bag(qr: \"SB00001\") { " + q + " } }"
	}
	tests := []struct {
		name, query, wantCode, wantMessage string
	}{
		// each areas selection counts areas + code = 2 fields
		{"fields just under", aliases(10), "", ""},
		{"fields just over", aliases(11), "QUERY_TOO_COMPLEX", "more than 20 fields"},
		{"depth just under", nested(1), "", ""},
		{"depth just over", nested(2), "QUERY_TOO_COMPLEX", "deeper than 5 levels"},
		{"complexity under", `{ a: bags(first: 100) { edges { node { qr type status } } } }`, "", ""},
		// each aliased page costs 1 + 100 x (edges 1 + node 1 + 3 scalars) = 501
		{"complexity over", `{ a: bags(first: 100) { edges { node { qr type status } } } b: bags(first: 100) { edges { node { qr type status } } } }`, "QUERY_TOO_COMPLEX", "complexity 1002, which exceeds the limit of 1000"},
		{"tokens over", "{ areas { " + strings.Repeat("code ", 200) + "} }", "QUERY_TOO_COMPLEX", "token limit of 200"},
		{"fragment cycle", `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, "BAD_USER_INPUT", "within itself"},
	}
	for _, tc := range tests {
		resp := env.Do(t, token, tc.query, nil)
		if resp.Code() != tc.wantCode {
			t.Errorf("%s: code %q (%v), want %q", tc.name, resp.Code(), resp.Errors, tc.wantCode)
			continue
		}
		if tc.wantMessage != "" && !strings.Contains(resp.Errors[0].Message, tc.wantMessage) {
			t.Errorf("%s: message %q, want it to mention %q", tc.name, resp.Errors[0].Message, tc.wantMessage)
		}
	}

	big := bytes.Repeat([]byte(" "), 5000)
	req, _ := http.NewRequest(http.MethodPost, env.URL, bytes.NewReader(append([]byte(`{"query":"{ areas { code } }"`), append(big, '}')...)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", resp.StatusCode)
	}
	if got := env.Do(t, token, `{ areas { code } }`, nil); got.Code() != "" {
		t.Errorf("server unhealthy after abuse: %v", got.Errors)
	}
}

func TestPersistedQueries(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleBiller, "")
	query := `{ areas { code } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}

	first := env.DoRaw(t, token, map[string]any{"extensions": ext})
	if first.Code() != "NOT_FOUND" || first.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("hash alone before registering: %+v", first.Errors)
	}
	env.DoRaw(t, token, map[string]any{"query": query, "extensions": ext}).Decode(t, &struct{}{})
	var got struct{ Areas []struct{ Code string } }
	env.DoRaw(t, token, map[string]any{"extensions": ext}).Decode(t, &got)
	if len(got.Areas) != 10 {
		t.Errorf("hash alone after registering: %+v", got)
	}
}

func TestSQLStatementCountExtension(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.DebugSQLCount = true })
	_, token := env.NewUser(t, db.RoleAdmin, "")
	// the first request reads the token; after it, the session comes from the token cache
	// and `me` reads nothing
	for i, want := range []float64{1, 0, 0} {
		resp := env.Do(t, token, `{ me { username } }`, nil)
		if n, ok := resp.Extensions["sqlStatements"].(float64); !ok || n != want {
			t.Errorf("request %d of me with one token: extensions %v, want %v statements", i+1, resp.Extensions, want)
		}
	}
}

// Documents whose validation is quadratic (fields of one selection set are compared pairwise)
// are refused by the shape limit before validation runs: each also holds an unknown field,
// which validation would answer BAD_USER_INPUT, so QUERY_TOO_COMPLEX proves the order. Normal
// requests sent alongside keep their normal answers.
func TestShapeLimitRunsBeforeValidation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	repeat := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	var bomb strings.Builder // F9 expands to 4^9 selections of me
	bomb.WriteString("{ ...F9 nope } fragment F0 on Query { me { id } }")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&bomb, " fragment F%d on Query { %s}", i, strings.Repeat(fmt.Sprintf("...F%d ", i-1), 4))
	}
	var deep strings.Builder // each fragment nests three levels: 20 of them, 60 levels
	deep.WriteString(`{ bag(qr: "SB00001") { ...D0 } nope } fragment D20 on Bag { qr }`)
	for i := range 20 {
		fmt.Fprintf(&deep, " fragment D%d on Bag { children { edges { node { ...D%d } } } }", i, i+1)
	}
	abusive := []struct{ name, query, wantCode string }{
		{"one field repeated", "{ me { " + strings.Repeat("id ", 3000) + "} nope }", "QUERY_TOO_COMPLEX"},
		{"aliases", "{ " + repeat("a%d: me { id } ", 600) + "nope }", "QUERY_TOO_COMPLEX"},
		{"inline fragments", "{ me { " + strings.Repeat("... on User { id } ", 600) + "} nope }", "QUERY_TOO_COMPLEX"},
		{"one fragment spread many times", "{ me { " + strings.Repeat("...U ", 600) + "} nope } fragment U on User { id }", "QUERY_TOO_COMPLEX"},
		{"fragment bomb", bomb.String(), "QUERY_TOO_COMPLEX"},
		{"many operations", repeat("query Q%d { me { id } } ", 300) + "query Z { nope }", "QUERY_TOO_COMPLEX"},
		{"an unused fragment", "{ nope } fragment U on User { " + strings.Repeat("id ", 600) + "}", "QUERY_TOO_COMPLEX"},
		{"depth through fragments", deep.String(), "QUERY_TOO_COMPLEX"},
		{"a fragment cycle spread many times", "{ ...A nope } fragment A on Query { " + strings.Repeat("...B ", 500) + "} fragment B on Query { ...A }", "BAD_USER_INPUT"},
	}
	for _, tc := range abusive {
		body := map[string]any{"query": tc.query}
		if strings.Contains(tc.name, "operations") {
			body["operationName"] = "Q0"
		}
		if got := env.DoRaw(t, token, body); got.Code() != tc.wantCode {
			t.Errorf("%s: code %q (%v), want %s", tc.name, got.Code(), got.Errors, tc.wantCode)
		}
	}

	// abusive documents from several clients at once, with normal requests among them
	var wg sync.WaitGroup
	var normal atomic.Int32
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				env.DoNoT("", abusive[i%len(abusive)].query, nil)
				return
			}
			var got struct{ Me struct{ Username string } }
			if env.DoNoT(token, `{ me { username } }`, nil).DecodeNoT(&got) == nil && got.Me.Username != "" {
				normal.Add(1)
			}
		}()
	}
	wg.Wait()
	if normal.Load() != 20 {
		t.Errorf("%d of 20 normal requests among abusive ones got their normal answer", normal.Load())
	}
}

// Query text costs no parser tokens in comments, so a document under the token limit can be
// a megabyte; the persisted-query cache must not pin such texts: a long query is answered but
// not kept (a hash of it is asked for again). The query cache is the same bounded cache
// (TestBoundedCacheRefusesLongText).
func TestPersistedQueriesKeepNoLongText(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	persist := func(query string) map[string]any {
		sum := sha256.Sum256([]byte(query))
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	}
	short := `{ __typename }`
	long := "# " + strings.Repeat("x", 100_000) + "\n{ __typename }"
	for _, q := range []string{short, long} {
		if got := env.DoRaw(t, "", map[string]any{"query": q, "extensions": persist(q)}); got.Code() != "" {
			t.Fatalf("registering a %d-byte query: %v", len(q), got.Errors)
		}
	}
	if got := env.DoRaw(t, "", map[string]any{"extensions": persist(short)}); got.Code() != "" {
		t.Errorf("hash of the short query: %v, want its answer", got.Errors)
	}
	if got := env.DoRaw(t, "", map[string]any{"extensions": persist(long)}); got.Code() != "NOT_FOUND" {
		t.Errorf("hash of the long query: %v, want PersistedQueryNotFound (not kept)", got.Errors)
	}
}

// aliased is an operation of the kind ("" for a query) that selects field n times under
// aliases a0, a1, ...
func aliased(kind, field string, n int) string {
	var b strings.Builder
	b.WriteString(kind + " {")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	return b.String() + " }"
}
