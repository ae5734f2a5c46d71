package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// TestConsoleEndToEnd runs the console's browser tests (web/e2e/console.test.mjs, headless
// Chromium driven by playwright-core) against the real server on a fresh test database.
// Without Node, Chromium or web/node_modules the test is skipped, unless E2E_REQUIRED=1
// (CI sets it: there a missing browser is a failure, not a skip).
func TestConsoleEndToEnd(t *testing.T) {
	node, chromium := e2eTools(t)
	allowedPort, foreignPort := strconv.Itoa(apitest.FreePort(t)), strconv.Itoa(apitest.FreePort(t))
	env := apitest.New(t, func(o *app.Options) {
		o.Websocket.AllowedOrigins = []string{"http://127.0.0.1:" + allowedPort}
	})
	users := map[string]string{}
	for name, role := range map[string]struct {
		role db.Role
		area string
	}{
		"admin": {db.RoleAdmin, ""}, "biller": {db.RoleBiller, ""},
		"dispatcher": {db.RoleDispatcher, "lucknow"}, "colleague": {db.RoleDispatcher, "lucknow"},
		"other": {db.RoleDispatcher, "jaipur"}, "leaver": {db.RoleDispatcher, "jaipur"},
	} {
		u, _ := env.NewUser(t, role.role, role.area)
		users[name] = u.Username
	}
	usersJSON, _ := json.Marshal(users)
	out := t.TempDir()
	if dir := os.Getenv("E2E_OUT"); dir != "" {
		out, _ = filepath.Abs(dir)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"--test", "--test-concurrency=1", "--test-reporter=spec"}
	if only := os.Getenv("E2E_ONLY"); only != "" {
		args = append(args, "--test-name-pattern="+only) // one test while working on it
	}
	cmd := exec.CommandContext(ctx, node, append(args, "e2e/console.test.mjs")...)
	cmd.Env = append(os.Environ(),
		"BASE_URL="+env.Server.URL,
		"E2E_USERS="+string(usersJSON),
		"E2E_PASSWORD="+apitest.Password,
		"CORS_ALLOWED_PORT="+allowedPort,
		"CORS_FOREIGN_PORT="+foreignPort,
		"CHROMIUM="+chromium,
		"E2E_OUT="+out,
	)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	err := cmd.Run()
	t.Log(output.String())
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
	if figures, err := os.ReadFile(filepath.Join(out, "figures.json")); err == nil {
		t.Logf("figures: %s", figures)
	}
}

func e2eTools(t *testing.T) (node, chromium string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("E2E_REQUIRED") == "1" {
			t.Fatalf("E2E_REQUIRED=1 but %s", what)
		}
		t.Skipf("browser tests skipped: %s (.ci/run installs it)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("Chromium is not at " + chromium + " (apt-get install chromium)")
	}
	if _, err := os.Stat("node_modules/playwright-core"); err != nil {
		missing("web/node_modules is missing (npm ci in web/)")
	}
	return node, chromium
}
