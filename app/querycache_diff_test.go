package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/metrics"
)

// TestQueryCacheAnswersAsWithout sends the query cache's corpus (valid and invalid
// documents, families of one shape with other strings, lengths, lines and whitespace) to a
// server with the cache and to one without it, over one database, and requires the same
// answer, errors' messages and locations included (in any order: root fields resolve
// concurrently, so their errors arrive as they finish). It also requires
// that the cache answered exactly the requests of a shape an earlier valid request cached.
// Not parallel: the hits are counted on the process-wide metric.
func TestQueryCacheAnswersAsWithout(t *testing.T) {
	cached := apitest.New(t)
	uncached := apitest.NewOn(t, cached.DatabaseURL, func(o *app.Options) { o.QueryCacheSize = -1 })
	_, token := cached.NewUser(t, db.RoleAdmin, "")
	seedTree(t, cached)
	for _, q := range []string{
		`INSERT INTO bags (qr, type, area_id, created_by) VALUES ('SB00002', 'PARENT', 1, (SELECT min(id) FROM users))`,
		`INSERT INTO bills (bill_number, capacity, created_by) VALUES ('BILL-000001', 10, (SELECT min(id) FROM users))`,
		`INSERT INTO bill_bags (bag_id, bill_id) SELECT b.id, (SELECT id FROM bills) FROM bags b WHERE b.qr IN ('SB00001', 'SB00002')`,
	} {
		if _, err := cached.Store.DB().ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	hits := cacheHits(t)
	cachedKeys := map[string]bool{}
	answered, sameShape := 0, 0
	for _, family := range app.QueryCacheCorpus {
		for _, tc := range family {
			body := map[string]any{"query": tc.Query, "variables": tc.Variables}
			if tc.OperationName != "" {
				body["operationName"] = tc.OperationName
			}
			key := app.ShapeKey(tc.Query)
			wantHit := key != "" && cachedKeys[key]
			before := cacheHits(t)
			raw, _ := json.Marshal(body)
			status, _, with := cached.Send(t, http.MethodPost, token, "/graphql", "application/json", raw)
			gotHit := cacheHits(t) > before
			statusWithout, _, without := uncached.Send(t, http.MethodPost, token, "/graphql", "application/json", raw)
			if status != statusWithout || canonical(t, with) != canonical(t, without) {
				t.Errorf("%q:\nwith the cache    %d %s\nwithout the cache %d %s", tc.Query, status, with, statusWithout, without)
			}
			if gotHit != wantHit {
				t.Errorf("%q: answered from the cache %v, want %v", tc.Query, gotHit, wantHit)
			}
			if gotHit {
				answered++
			}
			if key != "" && app.Validates(tc.Query) {
				sameShape++
				cachedKeys[key] = true
			}
		}
	}
	if got := cacheHits(t) - hits; got != float64(answered) || answered < 30 {
		t.Errorf("%v hits counted, %d answers from the cache (of %d valid texts): want at least 30", got, answered, sameShape)
	}
	t.Logf("%d requests answered from the cache, %d valid texts", answered, sameShape)
}

func cacheHits(t *testing.T) float64 {
	var m dto.Metric
	if err := metrics.QueryCache.WithLabelValues("hit").Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// canonical is a response with its errors in a fixed order.
func canonical(t *testing.T, body string) string {
	var resp map[string]any
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("not a GraphQL response: %s", body)
	}
	if errs, ok := resp["errors"].([]any); ok {
		sort.Slice(errs, func(i, j int) bool { return jsonText(errs[i]) < jsonText(errs[j]) })
	}
	return jsonText(resp)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
