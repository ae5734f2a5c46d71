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

// More stalled downloads than the pool has connections: the API and /readyz keep answering,
// each staller's next export is refused while it stalls (the per-user cap), and every stalled
// download ends after the write timeout.
func TestStalledDownloadsHoldNoPooledConnection(t *testing.T) {
	t.Parallel()
	const poolSize, stallers, writeTimeout = 3, 6, time.Second
	databaseURL := testdb.New(t)
	small, err := db.Open(context.Background(), databaseURL, poolSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { small.Close() })
	env := apitest.NewOn(t, databaseURL, func(o *app.Options) {
		o.Store = small
		o.Exports = export.Limits{PerUser: 1, WriteTimeout: writeTimeout}
	})
	// 40,000 bags: megabytes of CSV, far more than the socket buffers of a stalled client
	seed(t, env, `INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 1 FROM generate_series(1, 40000) i`)
	tokens := make([]string, stallers)
	for i := range tokens {
		_, tokens[i] = env.NewUser(t, db.RoleAdmin, "")
		stalledDownload(t, env.Server.URL, tokens[i], "/export/bags.csv")
	}
	client := &http.Client{Timeout: 5 * time.Second}

	refused := 0
	for _, token := range tokens {
		if getStatus(client, token, env.Server.URL+"/export/bills.csv") == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != stallers {
		t.Errorf("%d of %d stalling users were refused a second export (PerUser 1)", refused, stallers)
	}

	var mu sync.Mutex
	answered, ready := 0, 0
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := strings.Contains(query(client, env.URL, tokens[i%stallers], `{ bags(first: 5) { totalCount edges { node { qr } } } }`),
				`"qr":"SB40000"`)
			readyOK := getStatus(client, "", env.Server.URL+"/readyz") == http.StatusOK
			mu.Lock()
			defer mu.Unlock()
			if ok {
				answered++
			}
			if readyOK {
				ready++
			}
		}()
	}
	wg.Wait()
	if answered != 30 || ready != 30 {
		t.Errorf("with %d stalled downloads and a pool of %d: %d of 30 queries and %d of 30 /readyz answered normally",
			stallers, poolSize, answered, ready)
	}

	ended := 0
	deadline := time.Now().Add(10*writeTimeout + 10*time.Second)
	for _, token := range tokens {
		for time.Now().Before(deadline) {
			if getStatus(client, token, env.Server.URL+"/export/bills.csv") == http.StatusOK {
				ended++
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if ended != stallers {
		t.Errorf("%d of %d stalled downloads ended (their users could export again)", ended, stallers)
	}
}

// A download that is read keeps going whatever its length: the write timeout is per chunk.
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
			time.Sleep(600 * time.Millisecond) // slower than one timeout in all, within it per chunk
		}
	}
	if err := scanner.Err(); err != nil || lines != 3001 {
		t.Errorf("slow reader got %d lines (%v), want 3001", lines, err)
	}
}
