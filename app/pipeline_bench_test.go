package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The HTTP pipeline's cost per authenticated request, through the real handler in process
// (no network, so the figures are the server's own):
//
//	go test -run XXX -bench Pipeline -benchmem -count 5 ./app
//
// "me" touches no table once the token is verified, so it is the pipeline alone (request
// id, CORS, body and shape checks, session, rate limit, gqlgen, logging, metrics, encoding);
// "bagTree" is the bag-tree query of ../shared/peers/wrk-gql.lua on top of it.
func BenchmarkPipeline(b *testing.B) {
	env := apitest.New(b)
	_, token := env.NewUser(b, db.RoleAdmin, "")
	seedTree(b, env)
	for _, bench := range []struct{ name, query string }{
		{"me", `{ me { id username role } }`},
		{"bagTree", `{ bag(qr: "SB00001") { qr childCount children(first: 30) { edges { node { qr createdAt } } } } }`},
	} {
		b.Run(bench.name, func(b *testing.B) {
			body, _ := json.Marshal(map[string]any{"query": bench.query})
			handler := env.App.Handler()
			serve := func() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			serve() // warm the query cache
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				serve()
			}
		})
	}
}

// seedTree makes parent SB00001 with 30 children.
func seedTree(t testing.TB, env *apitest.Env) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO bags (qr, type, area_id, created_by) VALUES ('SB00001', 'PARENT', 1, (SELECT min(id) FROM users))`,
		`INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		 SELECT 'K1X'||k, 'CHILD', p.id, 1, p.created_by FROM bags p, generate_series(1, 30) k WHERE p.qr = 'SB00001'`,
	} {
		if _, err := env.Store.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}
