package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/internal/testdb"
	"tracetrack/pgboot"
)

// scanOutcome is what a scanner saw for one scanParent call.
type scanOutcome struct {
	qr   string
	code string // "" for success
}

// TestDatabaseOutage restarts a private PostgreSQL (never the machine's shared one) while a
// scanner scans in a loop: every acknowledged scan must be in the log exactly once, every
// failure must carry a clear code, /readyz must turn red and green again, and the server must
// recover without a restart.
func TestDatabaseOutage(t *testing.T) {
	if _, err := pgboot.FindBinaries(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	cluster, err := pgboot.Start(ctx, testdb.ClusterDir(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	databaseURL := cluster.URL("postgres")
	if err := applyMigrations(ctx, databaseURL); err != nil {
		t.Fatal(err)
	}
	env := apitest.NewOn(t, databaseURL, func(o *app.Options) { o.RequestTimeout = 3 * time.Second })
	_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")

	var readiness sync.Map
	outageDone := make(chan error, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		outageDone <- cluster.Outage(ctx, 2*time.Second)
	}()
	stopPolling := pollReadiness(env.Server.URL, &readiness)
	defer stopPolling()
	events := subscribeScans(t, env, token)

	var outcomes []scanOutcome
	recovered := 0
	deadline := time.Now().Add(45 * time.Second)
	for i := 0; recovered < 20 && time.Now().Before(deadline); i++ {
		qr := fmt.Sprintf("SB%05d", i)
		resp := env.Do(t, token, `mutation($qr: String!) { scanParent(qr: $qr) { qr } }`, map[string]any{"qr": qr})
		outcomes = append(outcomes, scanOutcome{qr: qr, code: resp.Code()})
		select {
		case err := <-outageDone:
			if err != nil {
				t.Fatalf("restart the private PostgreSQL: %v", err)
			}
			outageDone = nil
		default:
		}
		if outageDone == nil && resp.Code() == "" {
			recovered++
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopPolling()
	if recovered < 20 {
		t.Fatalf("the server did not recover after the database came back: %d successes since", recovered)
	}
	if _, red := readiness.Load(http.StatusServiceUnavailable); !red {
		t.Error("/readyz never turned red during the outage")
	}
	expectLiveScan(t, env, token, events)

	logged := scansPerQR(t, databaseURL)
	var ok, failed, lost int
	for _, o := range outcomes {
		switch {
		case o.code == "":
			ok++
			if logged[o.qr] != 1 {
				lost++
				t.Errorf("acknowledged scan %s is logged %d times, want exactly 1", o.qr, logged[o.qr])
			}
		case o.code == "SERVICE_UNAVAILABLE":
			failed++
			if logged[o.qr] > 1 {
				t.Errorf("failed scan %s is logged %d times", o.qr, logged[o.qr])
			}
		default:
			t.Errorf("scan %s failed with %s, want SERVICE_UNAVAILABLE", o.qr, o.code)
		}
	}
	if failed == 0 {
		t.Error("no scan failed: the outage was not observed, so the test proved nothing")
	}
	t.Logf("outage: %d scans tried, %d succeeded, %d failed cleanly, %d lost", len(outcomes), ok, failed, lost)
}

// pollReadiness records every /readyz status it sees until stopped.
func pollReadiness(baseURL string, seen *sync.Map) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if resp, err := http.Get(baseURL + "/readyz"); err == nil {
				seen.Store(resp.StatusCode, true)
				resp.Body.Close()
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

func scansPerQR(t *testing.T, databaseURL string) map[string]int {
	t.Helper()
	conn, err := sql.Open("postgres", databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT bag_qr, count(*) FROM scans WHERE kind = 'PARENT_SCANNED' GROUP BY bag_qr`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var qr string
		var n int
		if err := rows.Scan(&qr, &n); err != nil {
			t.Fatal(err)
		}
		counts[qr] = n
	}
	return counts
}

// TestSIGTERMFinishesInFlightRequests runs the real binary under scanning load, sends it
// SIGTERM, and checks that it exits 0 and that every scan it acknowledged is in the log.
func TestSIGTERMFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	databaseURL := testdb.New(t)
	binary := filepath.Join(t.TempDir(), "tracetrack")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", apitest.FreePort(t))
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "LISTEN_ADDR="+addr,
		"ADMIN_PASSWORD=Admin#Pass1", "BCRYPT_COST=4", "RATE_LIMIT_USER=0", "LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitReady(t, "http://"+addr)

	env := &apitest.Env{URL: "http://" + addr + "/graphql"}
	token := loginAdmin(t, env)
	var mu sync.Mutex
	var acknowledged []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				qr := fmt.Sprintf("M444-%d%04d", w, i)
				var got struct{ ScanParent struct{ QR string } }
				resp := env.DoNoT(token, `mutation($qr: String!) { scanParent(qr: $qr) { qr } }`, map[string]any{"qr": qr})
				if resp.DecodeNoT(&got) == nil && got.ScanParent.QR == qr {
					mu.Lock()
					acknowledged = append(acknowledged, qr)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM the server exited with %v, want status 0", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the server did not exit within 30 s of SIGTERM")
	}
	close(stop)
	wg.Wait()
	logged := scansPerQR(t, databaseURL)
	for _, qr := range acknowledged {
		if logged[qr] != 1 {
			t.Errorf("acknowledged scan %s is logged %d times, want 1", qr, logged[qr])
		}
	}
	if len(acknowledged) == 0 {
		t.Error("no scan was acknowledged before SIGTERM: the test proved nothing")
	}
}

func waitReady(t *testing.T, baseURL string) {
	t.Helper()
	for range 200 {
		if resp, err := http.Get(baseURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", baseURL)
}

func loginAdmin(t *testing.T, env *apitest.Env) string {
	t.Helper()
	var got struct{ Login struct{ Token string } }
	env.MustDo(t, "", `mutation { login(username: "admin", password: "Admin#Pass1") { token } }`, nil, &got)
	return got.Login.Token
}

// subscribeScans opens a graphql-transport-ws subscription to scanAdded and returns the bag
// QRs it receives.
func subscribeScans(t *testing.T, env *apitest.Env, token string) <-chan string {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(env.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	send := func(msg map[string]any) {
		if err := conn.WriteJSON(msg); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { scanAdded { bagQr } }"}})
	events := make(chan string, 1000)
	go func() {
		defer close(events)
		for {
			var msg struct {
				Type    string
				Payload struct {
					Data struct{ ScanAdded struct{ BagQr string } }
				}
			}
			if err := conn.ReadJSON(&msg); err != nil {
				return
			}
			switch msg.Type {
			case "ping":
				_ = conn.WriteJSON(map[string]any{"type": "pong"})
			case "next":
				events <- msg.Payload.Data.ScanAdded.BagQr
			}
		}
	}()
	return events
}

// expectLiveScan scans one more parent and waits for the subscription to deliver it: the
// LISTEN connection came back with the database.
func expectLiveScan(t *testing.T, env *apitest.Env, token string, events <-chan string) {
	t.Helper()
	env.MustDo(t, token, `mutation { scanParent(qr: "M444-99999") { qr } }`, nil, &struct{}{})
	deadline := time.After(20 * time.Second)
	for {
		select {
		case qr, open := <-events:
			if !open {
				t.Fatal("the subscription ended during the outage")
			}
			if qr == "M444-99999" {
				return
			}
		case <-deadline:
			t.Fatal("the subscription did not deliver a scan made after the database came back")
		}
	}
}
