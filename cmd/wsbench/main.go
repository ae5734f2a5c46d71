// Command wsbench measures live subscriptions against running TraceTrack servers: it opens
// many websocket subscribers (graphql-transport-ws), reads the servers' memory from /metrics
// before and after, then logs scans straight into the database at a steady rate and reports
// the scan-to-screen latency percentiles, the deliveries made against those expected, the
// subscribers cut, and (with -server-pid) the servers' CPU seconds per delivery.
//
//	go run ./cmd/wsbench -server http://127.0.0.1:18116 -server-pid 4242 -database-url postgres://... \
//	    -password <admin password> -subscribers 1000 -rate 100 -duration 15s
//
// -per-area gives each subscriber one area (scanAdded(areaCode:), areas in turn) and spreads
// the scans over the areas, so 10,000 per-area subscribers at 100 scans/s make the same
// 100,000 deliveries a second as 1,000 all-area ones. -server takes a comma-separated list:
// subscribers are spread over the instances (one database); the scans are written once.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/lib/pq"
)

type options struct {
	servers, pids         []string
	databaseURL, password string
	subscribers, rate     int
	perArea               bool
	duration              time.Duration
}

func main() {
	var o options
	var servers, pids string
	flag.StringVar(&servers, "server", "http://127.0.0.1:18116", "TraceTrack base URL; a comma-separated list spreads the subscribers over instances")
	flag.StringVar(&pids, "server-pid", "", "the servers' process ids (comma-separated, as -server): report their CPU seconds per delivery")
	flag.StringVar(&o.databaseURL, "database-url", "", "the servers' database (scans are inserted there)")
	flag.StringVar(&o.password, "password", "", "admin password")
	flag.IntVar(&o.subscribers, "subscribers", 2000, "websocket subscribers to hold open")
	flag.BoolVar(&o.perArea, "per-area", false, "each subscriber watches one area (in turn); scans are spread over the areas")
	flag.IntVar(&o.rate, "rate", 100, "scans per second")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to scan")
	flag.Parse()
	o.servers = strings.Split(servers, ",")
	if pids != "" {
		o.pids = strings.Split(pids, ",")
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	db, err := sql.Open("postgres", o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	areas, err := readAreas(db)
	if err != nil {
		return err
	}
	tokens := make([]string, len(o.servers))
	before := make([]map[string]float64, len(o.servers))
	for i, server := range o.servers {
		if tokens[i], err = login(server, o.password); err != nil {
			return err
		}
		if before[i], err = serverMemory(server); err != nil {
			return err
		}
	}
	b := newBench(o, areas)
	started := time.Now()
	for i := range o.subscribers {
		s := i % len(o.servers)
		if err := b.subscribe(i, o.servers[s], tokens[s]); err != nil {
			return fmt.Errorf("subscriber %d: %w", i, err)
		}
	}
	fmt.Printf("subscribers: %d on %d instance(s) connected in %s\n", o.subscribers, len(o.servers), time.Since(started).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // let the servers settle before reading their memory
	for i, server := range o.servers {
		after, err := serverMemory(server)
		if err != nil {
			return err
		}
		held := float64(countOn(i, o))
		for _, name := range []string{"go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "go_goroutines"} {
			delta := after[name] - before[i][name]
			fmt.Printf("instance %d %s: %.0f -> %.0f (%.0f per subscriber)\n", i, name, before[i][name], after[name], delta/held)
		}
	}
	cpuBefore, err := serverCPU(o.pids)
	if err != nil {
		return err
	}
	writesBefore := serverWrites(o.pids)
	wall := time.Now()
	ownBefore := ownCPU()
	if err := b.scanSteadily(db); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the last events
	cpuAfter, err := serverCPU(o.pids)
	if err != nil {
		return err
	}
	b.report(cpuAfter-cpuBefore, serverWrites(o.pids)-writesBefore, ownCPU()-ownBefore, time.Since(wall))
	return nil
}

// countOn is how many subscribers instance i holds.
func countOn(i int, o options) int {
	n := o.subscribers / len(o.servers)
	if i < o.subscribers%len(o.servers) {
		n++
	}
	return n
}

// readAreas returns the areas' ids and codes.
func readAreas(db *sql.DB) ([]area, error) {
	rows, err := db.Query(`SELECT id, code FROM areas ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []area
	for rows.Next() {
		var a area
		if err := rows.Scan(&a.id, &a.code); err != nil {
			return nil, err
		}
		a.index = len(out)
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New("no areas in the database")
	}
	return out, rows.Err()
}

type area struct {
	id    int64
	code  string
	index int
}

// bench holds the subscribers' tallies and the send time of every scan.
type bench struct {
	o     options
	areas []area
	run   string
	// sentAt[n] is when scan n was written (unix nanoseconds; 0: not yet).
	sentAt []atomic.Int64
	// watching[a] counts the subscribers of area a (all-area subscribers count in every one).
	watching []int
	subs     []*subscriber
	scans    atomic.Int64
	// byArea[a] counts the scans written in area a.
	byArea []atomic.Int64
}

type subscriber struct {
	latencies []time.Duration
	received  int
	cut       string // why the server ended the subscription early ("": it did not)
	done      chan struct{}
}

func newBench(o options, areas []area) *bench {
	b := &bench{o: o, areas: areas, run: strconv.FormatInt(time.Now().Unix()%100000, 10),
		sentAt: make([]atomic.Int64, o.rate*int(o.duration/time.Second+2)+o.rate), watching: make([]int, len(areas)),
		byArea: make([]atomic.Int64, len(areas))}
	for i := range o.subscribers {
		if o.perArea {
			b.watching[i%len(areas)]++
		} else {
			for a := range b.watching {
				b.watching[a]++
			}
		}
	}
	return b
}

// login returns an admin token.
func login(server, password string) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($p: String!) { login(username: "admin", password: $p) { token } }`,
		"variables": map[string]any{"p": password},
	})
	resp, err := http.Post(server+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct{ Login struct{ Token string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Data.Login.Token == "" {
		return "", errors.New("login as admin failed; pass -password")
	}
	return out.Data.Login.Token, nil
}

// serverMemory reads the numeric gauges of /metrics.
func serverMemory(server string) (map[string]float64, error) {
	resp, err := http.Get(server + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && !strings.HasPrefix(name, "#") {
			if v, err := strconv.ParseFloat(value, 64); err == nil {
				values[name] = v
			}
		}
	}
	return values, sc.Err()
}

// serverCPU sums the user and system CPU seconds of the processes (fields 14 and 15 of
// /proc/<pid>/stat, in clock ticks of 1/100 s).
func serverCPU(pids []string) (float64, error) {
	var total float64
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return 0, err
		}
		// The command name (field 2) is in parentheses and may hold spaces: count after it.
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		total += (utime + stime) / 100
	}
	return total, nil
}

// serverWrites sums the write system calls the processes made (syscw of /proc/<pid>/io): on
// loopback a write's kernel path (the receiver's TCP work included) is most of a delivery's
// cost, so deliveries per write says how well frames share them. -1: unreadable.
func serverWrites(pids []string) int64 {
	var total int64
	for _, pid := range pids {
		raw, err := os.ReadFile("/proc/" + pid + "/io")
		if err != nil {
			return -1
		}
		for line := range strings.Lines(string(raw)) {
			if v, ok := strings.CutPrefix(line, "syscw: "); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				total += n
			}
		}
	}
	return total
}

// ownCPU is this process's CPU seconds, to say what else the machine ran.
func ownCPU() float64 {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()).Seconds()
}

func (b *bench) subscribe(i int, server, token string) error {
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(server, "http")+"/graphql", nil)
	if err != nil {
		return err
	}
	send := func(v any) error { return conn.WriteJSON(v) }
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		return err
	}
	var ack struct{ Type string }
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return fmt.Errorf("no connection_ack (%v)", err)
	}
	payload := map[string]any{"query": `subscription { scanAdded { id bagQr } }`}
	if b.o.perArea {
		payload = map[string]any{"query": `subscription($area: String) { scanAdded(areaCode: $area) { id bagQr } }`,
			"variables": map[string]any{"area": b.areas[i%len(b.areas)].code}}
	}
	if err := send(map[string]any{"id": "1", "type": "subscribe", "payload": payload}); err != nil {
		return err
	}
	s := &subscriber{done: make(chan struct{})}
	b.subs = append(b.subs, s)
	go b.readEvents(conn, s)
	return nil
}

var (
	nextPrefix  = []byte(`"type":"next"`)
	errorPrefix = []byte(`"type":"error"`)
	pingMessage = []byte(`"type":"ping"`)
)

// readEvents times each next message of one subscriber. The bench client shares the machine
// with the server, so it reads the scan's number with a byte search, not a JSON decoder.
func (b *bench) readEvents(conn *websocket.Conn, s *subscriber) {
	defer close(s.done)
	marker := []byte(`"SB` + b.run + `-`)
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			if s.cut == "" && b.scans.Load() > 0 {
				s.cut = "socket closed: " + err.Error()
			}
			return
		}
		switch {
		case bytes.Contains(msg, nextPrefix):
			now := time.Now().UnixNano()
			s.received++
			at := bytes.Index(msg, marker)
			if at < 0 {
				continue
			}
			rest := msg[at+len(marker):]
			end := bytes.IndexByte(rest, '"')
			n, err := strconv.Atoi(string(rest[:max(end, 0)]))
			if err == nil && n < len(b.sentAt) {
				if sent := b.sentAt[n].Load(); sent > 0 {
					s.latencies = append(s.latencies, time.Duration(now-sent))
				}
			}
		case bytes.Contains(msg, errorPrefix):
			s.cut = string(msg)
			_ = conn.Close()
			return
		case bytes.Contains(msg, pingMessage):
			_ = conn.WriteJSON(map[string]string{"type": "pong"})
		}
	}
}

// scanSteadily inserts scans at o.rate a second for o.duration (areas in turn with -per-area,
// else all in the first area). Each tick's insert runs on its own (up to 32 at once), so a
// slow database on a loaded machine does not lower the rate.
func (b *bench) scanSteadily(db *sql.DB) error {
	ctx := context.Background()
	tick := time.NewTicker(time.Second / time.Duration(b.o.rate))
	defer tick.Stop()
	end := time.Now().Add(b.o.duration)
	inFlight := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var failed atomic.Value
	for n := 0; time.Now().Before(end) && n < len(b.sentAt); n++ {
		<-tick.C
		a := b.areas[0]
		if b.o.perArea {
			a = b.areas[n%len(b.areas)]
		}
		inFlight <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-inFlight; wg.Done() }()
			qr := fmt.Sprintf("SB%s-%d", b.run, n)
			b.sentAt[n].Store(time.Now().UnixNano())
			if _, err := db.ExecContext(ctx, `INSERT INTO scans (kind, bag_qr, area_id) VALUES ('PARENT_SCANNED', $1, $2)`, qr, a.id); err != nil {
				failed.Store(err)
				return
			}
			b.scans.Add(1)
			b.byArea[a.index].Add(1)
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	return nil
}

// expected is how many deliveries the scans written should make.
func (b *bench) expected() int {
	total := 0
	for a := range b.areas {
		total += int(b.byArea[a].Load()) * b.watching[a]
	}
	return total
}

func (b *bench) report(serverCPU float64, serverWrites int64, ownCPU float64, wall time.Duration) {
	var samples []time.Duration
	received, cut := 0, 0
	var reasons []string
	for _, s := range b.subs {
		received += s.received
		samples = append(samples, s.latencies...)
		if s.cut != "" {
			cut++
			if len(reasons) < 3 {
				reasons = append(reasons, s.cut)
			}
		}
	}
	slices.Sort(samples)
	pct := func(p float64) time.Duration {
		if len(samples) == 0 {
			return 0
		}
		return samples[int(p*float64(len(samples)-1))].Round(100 * time.Microsecond)
	}
	expected := b.expected()
	fmt.Printf("scans: %d at %d/s; deliveries made: %d of %d expected (%.2f %%); subscribers cut: %d\n",
		b.scans.Load(), b.o.rate, received, expected, 100*float64(received)/float64(max(expected, 1)), cut)
	for _, r := range reasons {
		fmt.Printf("  cut: %.200s\n", r)
	}
	fmt.Printf("scan-to-screen latency: p50 %s  p95 %s  p99 %s  max %s\n", pct(0.50), pct(0.95), pct(0.99), pct(1))
	if len(b.o.pids) > 0 {
		fmt.Printf("server CPU: %.2f s over %.1f s (%.0f %% of a core); %.2f µs per delivery\n",
			serverCPU, wall.Seconds(), 100*serverCPU/wall.Seconds(), 1e6*serverCPU/float64(max(received, 1)))
		if serverWrites > 0 {
			fmt.Printf("server write calls: %d (%.2f deliveries per write)\n", serverWrites, float64(received)/float64(serverWrites))
		}
	}
	fmt.Printf("wsbench's own CPU over the same time: %.2f s; load average: %s\n", ownCPU, loadAverage())
}

func loadAverage() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}
