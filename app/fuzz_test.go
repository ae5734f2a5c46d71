package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"tracetrack/internal/apitest"
)

// FuzzRequest sends arbitrary POST bodies and GET query strings to the GraphQL endpoint (the
// real handler over a real database, anonymous): whatever arrives, the answer is a GraphQL
// response whose errors carry contract codes, never INTERNAL_SERVER_ERROR, never a 5xx, never
// a panic. The seeds are the bad-input table and testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	for _, tc := range badInputs() {
		f.Add([]byte(tc.body), tc.rawQuery)
	}
	f.Add([]byte(`{"query": "{ me { id } }"}`), "query=%7B+me+%7B+id+%7D+%7D")
	env := apitest.New(f)
	handler := env.App.Handler()
	f.Fuzz(func(t *testing.T, body []byte, rawQuery string) {
		post := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		post.Header.Set("Content-Type", "application/json")
		checkAnswer(t, handler, post)
		get := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		get.URL.RawQuery = rawQuery
		checkAnswer(t, handler, get)
	})
}

func checkAnswer(t *testing.T, handler http.Handler, req *http.Request) {
	t.Helper()
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	var resp apitest.Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%s: status %d, the answer is not a GraphQL response: %s", req.Method, rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", req.Method, rec.Code, rec.Body.Bytes())
	}
	for _, e := range resp.Errors {
		if code, _ := e.Extensions["code"].(string); !contractCodes[code] {
			t.Fatalf("%s: an error with code %q: %q", req.Method, code, e.Message)
		}
	}
}
