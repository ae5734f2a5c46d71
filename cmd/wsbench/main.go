// Command wsbench measures live subscriptions against a running TraceTrack server: it opens
// many websocket subscribers (graphql-transport-ws), reads the server's memory from /metrics
// before and after, then logs scans straight into the database at a steady rate and reports
// the scan-to-subscriber latency percentiles.
//
//	go run ./cmd/wsbench -server http://127.0.0.1:18116 -database-url postgres://... \
//	    -password <admin password> -subscribers 3000 -rate 100 -duration 30s
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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/lib/pq"
)

type options struct {
	server, databaseURL, password string
	subscribers, rate, watchers   int
	duration                      time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "http://127.0.0.1:18116", "TraceTrack base URL")
	flag.StringVar(&o.databaseURL, "database-url", "", "the server's database (scans are inserted there)")
	flag.StringVar(&o.password, "password", "", "admin password")
	flag.IntVar(&o.subscribers, "subscribers", 2000, "websocket subscribers to hold open")
	flag.IntVar(&o.watchers, "watchers", 0, "subscribers whose events are timed (0: all)")
	flag.IntVar(&o.rate, "rate", 100, "scans per second")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to scan")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	token, err := login(o.server, o.password)
	if err != nil {
		return err
	}
	before, err := serverMemory(o.server)
	if err != nil {
		return err
	}
	lat := &latencies{sent: map[string]time.Time{}}
	started := time.Now()
	conns := make([]*websocket.Conn, 0, o.subscribers)
	for i := range o.subscribers {
		conn, err := subscribe(o.server, token)
		if err != nil {
			return fmt.Errorf("subscriber %d: %w", i, err)
		}
		conns = append(conns, conn)
		timed := o.watchers == 0 || i < o.watchers
		go readEvents(conn, lat, timed)
	}
	fmt.Printf("subscribers: %d connected in %s\n", len(conns), time.Since(started).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // let the server settle before reading its memory
	runtime.GC()
	after, err := serverMemory(o.server)
	if err != nil {
		return err
	}
	for _, name := range []string{"go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "go_goroutines"} {
		delta := after[name] - before[name]
		fmt.Printf("%s: %.0f -> %.0f (%.0f per subscriber)\n", name, before[name], after[name], delta/float64(len(conns)))
	}
	if err := scanSteadily(o, lat); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the last events
	lat.report(o)
	return nil
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

func subscribe(server, token string) (*websocket.Conn, error) {
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(server, "http")+"/graphql", nil)
	if err != nil {
		return nil, err
	}
	send := func(v any) error { return conn.WriteJSON(v) }
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	var ack struct{ Type string }
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("no connection_ack (%v)", err)
	}
	return conn, send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { scanAdded { id bagQr } }`}})
}

func readEvents(conn *websocket.Conn, lat *latencies, timed bool) {
	for {
		var m struct {
			Type    string
			Payload struct {
				Data struct{ ScanAdded struct{ BagQr string } }
			}
		}
		if err := conn.ReadJSON(&m); err != nil {
			return
		}
		switch m.Type {
		case "ping":
			_ = conn.WriteJSON(map[string]string{"type": "pong"})
		case "next":
			if timed {
				lat.received(m.Payload.Data.ScanAdded.BagQr)
			}
		}
	}
}

// scanSteadily inserts scans at o.rate a second for o.duration.
func scanSteadily(o options, lat *latencies) error {
	db, err := sql.Open("postgres", o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	end := time.Now().Add(o.duration)
	for n := 0; time.Now().Before(end); n++ {
		<-tick.C
		qr := fmt.Sprintf("SB%06d", n)
		lat.sentAt(qr)
		if _, err := db.ExecContext(ctx, `INSERT INTO scans (kind, bag_qr, area_id) VALUES ('PARENT_SCANNED', $1, 3)`, qr); err != nil {
			return err
		}
	}
	return nil
}

type latencies struct {
	mu      sync.Mutex
	sent    map[string]time.Time
	samples []time.Duration
}

func (l *latencies) sentAt(qr string) {
	l.mu.Lock()
	l.sent[qr] = time.Now()
	l.mu.Unlock()
}

func (l *latencies) received(qr string) {
	now := time.Now()
	l.mu.Lock()
	if at, ok := l.sent[qr]; ok {
		l.samples = append(l.samples, now.Sub(at))
	}
	l.mu.Unlock()
}

func (l *latencies) report(o options) {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.samples)
	pct := func(p float64) time.Duration {
		if len(l.samples) == 0 {
			return 0
		}
		return l.samples[int(p*float64(len(l.samples)-1))].Round(10 * time.Microsecond)
	}
	watchers := o.watchers
	if watchers == 0 {
		watchers = o.subscribers
	}
	fmt.Printf("scans: %d at %d/s; deliveries timed: %d (expected %d)\n", len(l.sent), o.rate, len(l.samples), len(l.sent)*watchers)
	fmt.Printf("scan-to-subscriber latency: p50 %s  p95 %s  p99 %s  max %s\n", pct(0.50), pct(0.95), pct(0.99), pct(1))
}
