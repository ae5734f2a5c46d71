package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The graphql-transport-ws protocol is tested with the real npm graphql-ws client, run by
// node from testdata/client.mjs.

var npmOnce sync.Once

// nodeClient runs client.mjs and returns its output lines as they come.
func nodeClient(t *testing.T, env *apitest.Env, token, query string, vars map[string]any, count int) <-chan map[string]any {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the graphql-ws client test needs node and npm")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: the graphql-ws client test needs node and npm")
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join("testdata", "node_modules", "graphql-ws")); err == nil {
			return
		}
		if out, err := exec.Command("npm", "ci", "--prefix", "testdata", "--no-audit", "--no-fund").CombinedOutput(); err != nil {
			t.Fatalf("npm ci --prefix live/testdata: %v\n%s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	varsJSON, _ := json.Marshal(vars)
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "client.mjs"))
	cmd.Env = append(os.Environ(), "URL="+wsURL(env), "TOKEN="+token, "QUERY="+query,
		"VARIABLES="+string(varsJSON), "COUNT="+strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
		_ = cmd.Wait()
	}()
	return lines
}

func nextLine(t *testing.T, lines <-chan map[string]any) map[string]any {
	t.Helper()
	select {
	case m, ok := <-lines:
		if !ok {
			t.Fatal("the node client ended early")
		}
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for the node client")
	}
	return nil
}

func TestGraphQLWSClientReceivesScans(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
	fx := newFixture(t, env)
	lines := nodeClient(t, env, token, scanAdded, map[string]any{"kinds": []string{"CHILD_LINKED"}}, 2)
	if m := nextLine(t, lines); m["connected"] != true {
		t.Fatalf("node client: %v, want connected", m)
	}
	waitSubscribed(t, env, 1)
	fx.scan("CHILD_LINKED", "indore")   // another area
	fx.scan("PARENT_SCANNED", "jaipur") // another kind
	want := []int64{fx.scan("CHILD_LINKED", "jaipur"), fx.scan("CHILD_LINKED", "jaipur")}
	for _, id := range want {
		m := nextLine(t, lines)
		data, _ := m["data"].(map[string]any)
		scan, _ := data["scanAdded"].(map[string]any)
		if scan == nil || scanID(t, scan["id"].(string)) != id || scan["kind"] != "CHILD_LINKED" {
			t.Fatalf("node client got %v, want CHILD_LINKED scan %d", m, id)
		}
	}
}

func TestGraphQLWSClientBadTokenGets4403(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	lines := nodeClient(t, env, "not-a-token", scanAdded, nil, 1)
	m := nextLine(t, lines)
	if code, _ := m["closed"].(float64); code != 4403 || m["reason"] == "" {
		t.Fatalf("node client got %v, want closed 4403 with a reason", m)
	}
}
