package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are kept in microseconds from 1 µs to 2 minutes with 3 significant digits.
const (
	histMin    = 1
	histMax    = int64(2 * time.Minute / time.Microsecond)
	histDigits = 3
)

// opStats accumulates one operation's requests.
type opStats struct {
	mu           sync.Mutex
	hist         *hdrhistogram.Histogram
	requests     int64
	errors       int64
	collisions   int64
	errorsByCode map[string]int64
	rejections   map[string]int64
}

// recorder collects every request of the run, by operation name.
type recorder struct {
	mu  sync.Mutex
	ops map[string]*opStats

	// Totals for the progress line; event deliveries are not requests and stay out.
	requests atomic.Int64
	errors   atomic.Int64

	storm stormWindow
}

func newRecorder() *recorder { return &recorder{ops: map[string]*opStats{}} }

func (r *recorder) op(name string) *opStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.ops[name]
	if !ok {
		s = &opStats{hist: hdrhistogram.New(histMin, histMax, histDigits), errorsByCode: map[string]int64{}, rejections: map[string]int64{}}
		r.ops[name] = s
	}
	return s
}

// record adds one request that started at start. Requests that overlap a login storm go to
// the operation's "-during-storm" row instead.
func (r *recorder) record(name string, start time.Time, err error) {
	end := time.Now()
	if name != opLoginStorm && r.storm.overlaps(start, end) {
		name += "-during-storm"
	}
	r.requests.Add(1)
	if err != nil {
		r.errors.Add(1)
	}
	r.op(name).add(end.Sub(start), codeOf(err), false)
}

// collision adds a scanParent that hit another area's bag: a request, but not an error.
func (r *recorder) collision(name string, start time.Time) {
	end := time.Now()
	if r.storm.overlaps(start, end) {
		name += "-during-storm"
	}
	r.requests.Add(1)
	r.op(name).add(end.Sub(start), "", true)
}

// rejected counts a per-QR rejection inside a successful response (PARENT_FULL, ON_OTHER_BILL):
// the API's answer to a race between users, not an error.
func (r *recorder) rejected(name, code string) {
	s := r.op(name)
	s.mu.Lock()
	s.rejections[code]++
	s.mu.Unlock()
}

// delivery adds one subscription event received latency after it happened.
func (r *recorder) delivery(latency time.Duration) {
	r.op(opEventDelivery).add(latency, "", false)
}

// deliveryError counts a subscriber that failed, under its code.
func (r *recorder) deliveryError(code string) {
	s := r.op(opEventDelivery)
	s.mu.Lock()
	s.errors++
	s.errorsByCode[code]++
	s.mu.Unlock()
}

func (s *opStats) add(d time.Duration, code string, collision bool) {
	us := min(max(d.Microseconds(), histMin), histMax)
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.hist.RecordValue(us) // cannot fail: us is clamped into the histogram's range
	s.requests++
	if collision {
		s.collisions++
	}
	if code != "" {
		s.errors++
		s.errorsByCode[code]++
	}
}

// stormWindow is the span of a login storm, in unix nanoseconds; zero while unknown.
type stormWindow struct{ start, end atomic.Int64 }

// overlaps reports whether a request from start to end overlapped the storm; a storm that
// has started and not ended yet overlaps everything that ends after its start.
func (w *stormWindow) overlaps(start, end time.Time) bool {
	s := w.start.Load()
	if s == 0 || end.UnixNano() < s {
		return false
	}
	e := w.end.Load()
	return e == 0 || start.UnixNano() <= e
}

// opReport is one row of the report.
type opReport struct {
	Name         string           `json:"name,omitempty"`
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	ErrorRate    float64          `json:"error_rate"`
	RPS          float64          `json:"rps"`
	MeanMS       float64          `json:"mean_ms"`
	P50MS        float64          `json:"p50_ms"`
	P95MS        float64          `json:"p95_ms"`
	P99MS        float64          `json:"p99_ms"`
	MaxMS        float64          `json:"max_ms"`
	Collisions   int64            `json:"collisions,omitempty"`
	ErrorsByCode map[string]int64 `json:"errors_by_code,omitempty"`
	Rejections   map[string]int64 `json:"rejections,omitempty"`
}

// report is what stdout shows and -json writes.
type report struct {
	Scenario   string     `json:"scenario"`
	DurationS  float64    `json:"duration_s"`
	Users      int        `json:"users"`
	ThinkMS    float64    `json:"think_ms"`
	Total      opReport   `json:"total"`
	Operations []opReport `json:"operations"`
	Notes      []string   `json:"notes,omitempty"`
}

const (
	opEventDelivery = "event-delivery"
	opLogin         = "login"
)

// outsideTotal are rows that are not the load itself: the logins before the timed loop and
// the subscription events.
var outsideTotal = map[string]bool{opEventDelivery: true, opLogin: true}

// report summarises the run; the total covers requests only, not event deliveries.
func (r *recorder) report(elapsed time.Duration) report {
	r.mu.Lock()
	names := make([]string, 0, len(r.ops))
	for name := range r.ops {
		names = append(names, name)
	}
	r.mu.Unlock()
	sort.Strings(names)
	total := &opStats{hist: hdrhistogram.New(histMin, histMax, histDigits),
		errorsByCode: map[string]int64{}, rejections: map[string]int64{}}
	var rep report
	for _, name := range names {
		s := r.op(name)
		s.mu.Lock()
		rep.Operations = append(rep.Operations, s.row(name, elapsed))
		if !outsideTotal[name] {
			total.merge(s)
		}
		s.mu.Unlock()
	}
	rep.Total = total.row("", elapsed)
	rep.DurationS = elapsed.Seconds()
	return rep
}

func (s *opStats) merge(o *opStats) {
	s.hist.Merge(o.hist)
	s.requests += o.requests
	s.errors += o.errors
	s.collisions += o.collisions
	for code, n := range o.errorsByCode {
		s.errorsByCode[code] += n
	}
	for code, n := range o.rejections {
		s.rejections[code] += n
	}
}

func (s *opStats) row(name string, elapsed time.Duration) opReport {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	row := opReport{
		Name: name, Requests: s.requests, Errors: s.errors, Collisions: s.collisions,
		MeanMS: s.hist.Mean() / 1000,
		P50MS:  ms(s.hist.ValueAtQuantile(50)), P95MS: ms(s.hist.ValueAtQuantile(95)),
		P99MS: ms(s.hist.ValueAtQuantile(99)), MaxMS: ms(s.hist.Max()),
	}
	if s.requests > 0 {
		row.ErrorRate = float64(s.errors) / float64(s.requests)
	}
	if elapsed > 0 {
		row.RPS = float64(s.requests) / elapsed.Seconds()
	}
	row.ErrorsByCode = copyCounts(s.errorsByCode)
	row.Rejections = copyCounts(s.rejections)
	return row
}

func copyCounts(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// writeTable prints the report as an aligned table.
func writeTable(w io.Writer, rep report) {
	fmt.Fprintf(w, "\nscenario %s, %d users, %.1f s, think time %.0f ms\n", rep.Scenario, rep.Users, rep.DurationS, rep.ThinkMS)
	fmt.Fprintf(w, "%-28s %9s %7s %7s %9s %8s %8s %8s %8s %8s  %s\n",
		"operation", "requests", "errors", "err%", "rps", "mean", "p50", "p95", "p99", "max", "errors by code, collisions, rejections")
	for _, row := range rep.Operations {
		writeRow(w, row.Name, row)
	}
	writeRow(w, "TOTAL", rep.Total)
	for _, note := range rep.Notes {
		fmt.Fprintln(w, "note:", note)
	}
}

func writeRow(w io.Writer, name string, row opReport) {
	codes := make([]string, 0, len(row.ErrorsByCode))
	for code, n := range row.ErrorsByCode {
		codes = append(codes, fmt.Sprintf("%s=%d", code, n))
	}
	sort.Strings(codes)
	if row.Collisions > 0 {
		codes = append(codes, fmt.Sprintf("collisions=%d", row.Collisions))
	}
	rejected := make([]string, 0, len(row.Rejections))
	for code, n := range row.Rejections {
		rejected = append(rejected, fmt.Sprintf("rejected:%s=%d", code, n))
	}
	sort.Strings(rejected)
	codes = append(codes, rejected...)
	fmt.Fprintf(w, "%-28s %9d %7d %6.2f%% %9.1f %8.2f %8.2f %8.2f %8.2f %8.2f  %s\n",
		name, row.Requests, row.Errors, 100*row.ErrorRate, row.RPS,
		row.MeanMS, row.P50MS, row.P95MS, row.P99MS, row.MaxMS, strings.Join(codes, " "))
}

// writeJSON writes the report to path.
func writeJSON(path string, rep report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// progress prints elapsed time, requests, the last second's rate and errors once a second
// until done is closed.
func (r *recorder) progress(w io.Writer, started time.Time, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			n := r.requests.Load()
			fmt.Fprintf(w, "%6.0fs  requests %8d  rps %7d  errors %d\n",
				now.Sub(started).Seconds(), n, n-last, r.errors.Load())
			last = n
		}
	}
}
