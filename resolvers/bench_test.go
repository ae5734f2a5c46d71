package resolvers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/loaders"
)

// Hot-path benchmarks through HTTP on loopback, as a scanner station or dashboard calls them.
// Besides ns/op they report p50 and p95 in ms:
//   go test -run XXX -bench . -benchtime 2000x -count 5 ./resolvers | tee new.txt; benchstat new.txt

func BenchmarkScanChildren30(b *testing.B) {
	env := apitest.New(b)
	_, token := env.NewUser(b, db.RoleDispatcher, "jaipur")
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		parent := fmt.Sprintf("SB%05d", i%100000)
		env.MustDo(b, token, `mutation($q: String!) { scanParent(qr: $q) { id } }`, map[string]any{"q": parent}, &struct{}{})
		children := make([]string, 30)
		for k := range children {
			children[k] = fmt.Sprintf("B%dK%d", i, k)
		}
		b.StartTimer()
		start := time.Now()
		resp := env.Do(b, token, scanChildrenMutation, map[string]any{"p": parent, "c": children})
		latencies = append(latencies, time.Since(start))
		if len(resp.Errors) > 0 {
			b.Fatal(resp.Errors)
		}
	}
	reportPercentiles(b, latencies)
}

func BenchmarkBagTree(b *testing.B) {
	env := apitest.New(b)
	_, token := env.NewUser(b, db.RoleAdmin, "")
	treeFixture(b, env, 200, 30)
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		resp := env.Do(b, token, `query($q: String!) { bag(qr: $q) { qr status childCount children { edges { node { qr createdAt } } } } }`,
			map[string]any{"q": fmt.Sprintf("SB%05d", 1+i%200)})
		latencies = append(latencies, time.Since(start))
		if len(resp.Errors) > 0 {
			b.Fatal(resp.Errors)
		}
	}
	reportPercentiles(b, latencies)
}

func reportPercentiles(b *testing.B, latencies []time.Duration) {
	if len(latencies) == 0 {
		return
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	at := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}

// BenchmarkDeepBillQuery runs bills(50) -> parentBags(50) -> children(30) -> createdBy over
// 50 bills x 20 parents x 30 children, with the loaders batching (batched) and with every
// key fetched on its own (per-row, as without loaders).
func BenchmarkDeepBillQuery(b *testing.B) {
	for _, mode := range []struct {
		name     string
		settings loaders.Settings
	}{
		{"batched", loaders.DefaultSettings()},
		{"per-row", loaders.Settings{Wait: time.Microsecond, MaxBatch: 1}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			env := apitest.New(b, func(o *app.Options) { o.Loaders = mode.settings })
			_, token := env.NewUser(b, db.RoleAdmin, "")
			billTreeFixture(b, env, 50, 20, 30)
			latencies := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if resp := env.Do(b, token, deepBillQuery, nil); len(resp.Errors) > 0 {
					b.Fatal(resp.Errors)
				}
				latencies = append(latencies, time.Since(start))
			}
			reportPercentiles(b, latencies)
		})
	}
}

// The three read shapes of ../shared/peers/side-by-side.sh, exactly as its wrk script sends
// them (the key inlined, so each request parses its own text, as there).
var readShapes = []struct{ name, query string }{
	{"bagtree", `{bag(qr:"SB%05d"){qr childCount children(first:30){edges{node{qr createdAt}}}}}`},
	{"billpage", `{bill(billNumber:"DEEP-%d"){billNumber parentBagCount parentBags(first:50){edges{node{qr childCount}}}}}`},
	{"recentscans", `{scans(first:50){edges{node{id kind at bagQr}}}}`},
}

// readShapeKeys is how many distinct keys (parents, bills) readShapeFixture makes.
const readShapeKeys = 4

// readShapeFixture makes 4 bills of 50 parents of 30 children, and a scan per bag.
func readShapeFixture(t testing.TB, env *apitest.Env) {
	billTreeFixture(t, env, readShapeKeys, 50, 30)
}

// BenchmarkReadShapes serves the three read shapes through the real handler in process (no
// client or socket in the figures), so allocs/op and B/op are the server's per request:
//
//	go test -run XXX -bench ReadShapes -benchmem -count 3 ./resolvers
//
// It cycles through 4 keys, so each text repeats; BenchmarkReadShapesLiterals through 1,200.
func BenchmarkReadShapes(b *testing.B) {
	env := apitest.New(b)
	_, token := env.NewUser(b, db.RoleAdmin, "")
	readShapeFixture(b, env)
	benchReadShapes(b, env.App.Handler(), token, readShapeKeys)
}

// literalShapeKeys is more texts than a query cache keyed by the text holds (1,000), so that
// there, as in side-by-side.sh (33,333 parents), every request would be parsed and validated.
const literalShapeKeys = 1200

// BenchmarkReadShapesLiterals is BenchmarkReadShapes with a new key in each request of 1,200
// in turn: 1,200 bills of 50 parents, the first 1,200 parents with 30 children each.
func BenchmarkReadShapesLiterals(b *testing.B) {
	env := apitest.New(b)
	_, token := env.NewUser(b, db.RoleAdmin, "")
	billTreeFixture(b, env, literalShapeKeys, 50, 0)
	mustExec(b, env, `
		INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		SELECT 'K'||p.id||'X'||k, 'CHILD', p.id, 1, p.created_by
		FROM bags p, generate_series(1, 30) k WHERE p.type = 'PARENT' AND p.qr <= $1`, fmt.Sprintf("SB%05d", literalShapeKeys))
	benchReadShapes(b, env.App.Handler(), token, literalShapeKeys)
}

// mixReads are the field test's reads as cmd/loadgen sends them (the bag list as an admin
// and as a biller asks it), all served by the fast path:
//
//	go test -run XXX -bench MixReads -benchmem -count 3 ./resolvers
var mixReads = []struct{ name, query string }{
	{"dashboard", `{ stats { parentBags childBags bills openBills totalScans scansToday }
  scans(first: 20) { edges { node { id kind at bagQr user { username } } } } }`},
	{"baglist", `{ bags(first: 20, filter: {type: PARENT}) { totalCount
  edges { node { qr status childCount weightKg createdAt } } } }`},
	{"unbilledlist", `{ bags(first: 20, filter: {type: PARENT, billed: false}) { totalCount
  edges { node { qr status childCount weightKg createdAt } } } }`},
	{"billlist", `{ bills(first: 20) { totalCount edges { node { id billNumber status capacity
  parentBagCount childBagCount totalWeightKg createdAt } } } }`},
	{"stats", `{ stats { parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users } }`},
}

// BenchmarkMixReads serves the field test's reads in process, as BenchmarkReadShapes does.
func BenchmarkMixReads(b *testing.B) {
	env := apitest.New(b)
	_, token := env.NewUser(b, db.RoleAdmin, "")
	readShapeFixture(b, env)
	benchShapes(b, mixReads, env.App.Handler(), token, 1)
}

func benchReadShapes(b *testing.B, handler http.Handler, token string, keys int) {
	benchShapes(b, readShapes, handler, token, keys)
}

func benchShapes(b *testing.B, shapes []struct{ name, query string }, handler http.Handler, token string, keys int) {
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			bodies := make([][]byte, keys)
			for k := range bodies {
				bodies[k], _ = json.Marshal(map[string]string{"query": readShapeQuery(shape.query, k+1)})
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU(b)
			defer func() { b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N), "cpu-us/op") }()
			for i := range b.N {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(bodies[i%keys]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("%s: %d %s", shape.name, rec.Code, rec.Body)
				}
			}
		})
	}
}

// processCPU is the CPU time the process has used (user and system, the garbage collector's
// included): on a shared machine it varies far less than the elapsed time.
func processCPU(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatal(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// readShapeQuery fills the key into a read shape's text (the scans page has none).
func readShapeQuery(shape string, key int) string {
	if !strings.Contains(shape, "%") {
		return shape
	}
	return fmt.Sprintf(shape, key)
}
