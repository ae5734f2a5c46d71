package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/export"
	"tracetrack/internal/apitest"
	"tracetrack/internal/testdb"
)

// stalledDownload starts GET path as the token's user over a connection with a tiny receive
// buffer and never reads it: the server soon cannot write any more.
func stalledDownload(t *testing.T, serverURL, token, path string) net.Conn {
	t.Helper()
	u, _ := url.Parse(serverURL)
	dialer := net.Dialer{Control: func(_, _ string, raw syscall.RawConn) error {
		var sockErr error
		err := raw.Control(func(fd uintptr) {
			sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return sockErr
	}}
	conn, err := dialer.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", path, u.Host, token)
	// read the status line only: the download has begun (its slot is taken) and stalls from here
	status := make([]byte, len("HTTP/1.1 200"))
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadFull(conn, status); err != nil || string(status) != "HTTP/1.1 200" {
		t.Fatalf("stalled download of %s: %q %v", path, status, err)
	}
	return conn
}

// getStatus reads a whole response and returns its status (0: no answer within 5 s).
func getStatus(client *http.Client, token, url string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0
	}
	return resp.StatusCode
}

// query posts a GraphQL query and returns the response body ("" without an answer in 5 s).
func query(client *http.Client, url, token, q string) string {
	body, _ := json.Marshal(map[string]string{"query": q})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return string(answer)
}

// seedMegabytes adds 150,000 bags: a bags.csv of about 9 MB, more than the kernel buffers
// (up to 4 MB of send buffer here) can take for a client that reads nothing.
func seedMegabytes(t *testing.T, env *apitest.Env) {
	t.Helper()
	seed(t, env,
		`INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 1 FROM generate_series(1, 99999) i`,
		`INSERT INTO bags (qr, type, area_id) SELECT 'M444-' || lpad(i::text, 5, '0'), 'PARENT', 1 FROM generate_series(1, 50000) i`)
}

// More stalled downloads than the pool has connections: while they stall (each staller's
// next export is refused, before and after: the per-user cap), the API and /readyz keep
// answering normally.
func TestStalledDownloadsHoldNoPooledConnection(t *testing.T) {
	t.Parallel()
	const poolSize, stallers = 3, 6
	databaseURL := testdb.New(t)
	small, err := db.Open(context.Background(), databaseURL, poolSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { small.Close() })
	env := apitest.NewOn(t, databaseURL, func(o *app.Options) {
		o.Store = small
		// far longer than the test: the downloads stall for all of it
		o.Exports = export.Limits{PerUser: 1, WriteTimeout: 10 * time.Minute}
	})
	seedMegabytes(t, env)
	tokens := make([]string, stallers)
	for i := range tokens {
		_, tokens[i] = env.NewUser(t, db.RoleAdmin, "")
	}
	for _, token := range tokens {
		stalledDownload(t, env.Server.URL, token, "/export/bags.csv")
	}
	// generous: on a loaded machine a normal answer may take seconds, a held pool never comes
	client := &http.Client{Timeout: 30 * time.Second}
	stalling := func() int {
		n := 0
		for _, token := range tokens {
			if getStatus(client, token, env.Server.URL+"/export/bills.csv") == http.StatusTooManyRequests {
				n++
			}
		}
		return n
	}
	if n := stalling(); n != stallers {
		t.Errorf("%d of %d stalling users were refused a second export (PerUser 1)", n, stallers)
	}

	// two clients at a time, fifteen rounds each: well within a free pool of 3, none of it
	// within a pool the stalls hold
	var answered, ready atomic.Int32
	var wg sync.WaitGroup
	for worker := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 15 {
				if strings.Contains(query(client, env.URL, tokens[worker], `{ bags(first: 5) { totalCount edges { node { qr } } } }`),
					`"qr":"M444-50000"`) {
					answered.Add(1)
				}
				if getStatus(client, "", env.Server.URL+"/readyz") == http.StatusOK {
					ready.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if answered.Load() != 30 || ready.Load() != 30 {
		t.Errorf("with %d stalled downloads and a pool of %d: %d of 30 queries and %d of 30 /readyz answered normally",
			stallers, poolSize, answered.Load(), ready.Load())
	}
	if n := stalling(); n != stallers {
		t.Errorf("after the traffic %d of %d downloads still stalled; the test proves nothing of the others", n, stallers)
	}
}

// A stalled download ends by itself after the write timeout: its user can export again.
func TestStalledDownloadsEnd(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Exports = export.Limits{PerUser: 1, WriteTimeout: time.Second} })
	seedMegabytes(t, env)
	tokens := make([]string, 3)
	for i := range tokens {
		_, tokens[i] = env.NewUser(t, db.RoleAdmin, "")
	}
	for _, token := range tokens {
		stalledDownload(t, env.Server.URL, token, "/export/bags.csv")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	ended := 0
	deadline := time.Now().Add(time.Minute)
	for _, token := range tokens {
		for time.Now().Before(deadline) {
			if getStatus(client, token, env.Server.URL+"/export/bills.csv") == http.StatusOK {
				ended++
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if ended != len(tokens) {
		t.Errorf("%d of %d stalled downloads ended (their users could export again)", ended, len(tokens))
	}
}

// A download that is read keeps going whatever its length: the write timeout bounds how long
// the client takes nothing, not the whole download.
func TestSlowReaderWithinTheWriteTimeoutGetsEveryRow(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Exports = export.Limits{PerUser: 1, WriteTimeout: time.Second} })
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	seed(t, env, `INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 1 FROM generate_series(1, 3000) i`)
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/export/bags.csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := 0
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		lines++
		if lines%1000 == 0 {
			time.Sleep(600 * time.Millisecond) // slower than one timeout in all, never idle for one
		}
	}
	if err := scanner.Err(); err != nil || lines != 3001 {
		t.Errorf("slow reader got %d lines (%v), want 3001", lines, err)
	}
}
