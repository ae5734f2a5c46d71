package resolvers_test

import (
	"fmt"
	"sort"
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
