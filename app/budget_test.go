package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
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

	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: areas { code }", i)
		}
		return b.String() + " }"
	}
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
	resp := env.Do(t, token, `{ me { username } }`, nil)
	if n, ok := resp.Extensions["sqlStatements"].(float64); !ok || n != 0 {
		t.Errorf("me costs no statement beyond the token lookup (outside the operation): extensions %v", resp.Extensions)
	}
}
