package live_test

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestRevokedOrExpiredTokenClosesSocket(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Websocket.RecheckInterval = 100 * time.Millisecond })
	fx := newFixture(t, env)
	for _, tc := range []struct {
		change string
		code   int
	}{
		{`UPDATE auth_tokens SET revoked_at = now() WHERE user_id = $1`, 4403},
		{`UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, 4401},
		{`UPDATE users SET active = false WHERE id = $1`, 4403},
	} {
		user, token := env.NewUser(t, db.RoleBiller, "")
		c := connectLegacy(t, env, token)
		if _, err := fx.db.Exec(tc.change, user.ID); err != nil {
			t.Fatal(err)
		}
		if code, reason := c.closeCode(); code != tc.code || reason == "" {
			t.Errorf("%s: closed with %d %q, want %d and a reason", tc.change, code, reason, tc.code)
		}
	}
}

func TestShutdownClosesSocketsWith1001(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, c, _ := adminWatchingScans(t, env)
	done := make(chan error, 1)
	go func() { done <- env.App.Shutdown(context.Background()) }()
	if code, reason := c.closeCode(); code != 1001 || reason == "" {
		t.Fatalf("closed with %d %q, want 1001 and a reason", code, reason)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := env.App.Hub().Subscribers(); n != 0 {
		t.Fatalf("%d subscriptions left after shutdown", n)
	}
}

func TestOriginCheck(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Websocket.AllowedOrigins = []string{"https://ops.example.com"} })
	host := env.Server.Listener.Addr().String()
	for origin, allowed := range map[string]bool{
		"":                         true, // not a browser
		"http://" + host:           true, // same origin
		"https://ops.example.com":  true,
		"https://evil.example.com": false,
	} {
		header := http.Header{}
		if origin != "" {
			header.Set("Origin", origin)
		}
		conn, resp, err := websocket.DefaultDialer.Dial(wsURL(env), header)
		if allowed && err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
		}
		if !allowed && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %q: want HTTP 403, got %v", origin, err)
		}
		if conn != nil {
			conn.Close()
		}
	}
}

func TestSlowSubscriberIsEndedAndResumes(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Live.Buffer = 2 })
	fx, c, _ := adminWatchingScans(t, env)
	first, last := fx.bulkScans(2000, "jaipur")

	var got []int64
	var resume string
	for resume == "" {
		m := c.nextFor("1")
		switch m.Type {
		case "data":
			got = append(got, scanID(t, eventOf(t, m).ID))
		case "error":
			var errs []apitest.Error
			if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 ||
				errs[0].Extensions["code"] != "SERVICE_UNAVAILABLE" || errs[0].Extensions["after"] == nil {
				t.Fatalf("overflow error %s: want SERVICE_UNAVAILABLE with extensions.after", m.Payload)
			}
			resume = errs[0].Extensions["after"].(string)
		default:
			t.Fatalf("got %s %s before the overflow error", m.Type, m.Payload)
		}
	}
	if len(got) == 0 || scanID(t, resume) != got[len(got)-1] {
		t.Fatalf("resume point %s does not match the last delivered scan", resume)
	}
	c.subscribe("2", scanAdded, map[string]any{"after": resume})
	for len(got) < int(last-first+1) {
		got = append(got, scanID(t, c.nextScan("2").ID))
	}
	want := make([]int64, 0, last-first+1)
	for id := first; id <= last; id++ {
		want = append(want, id)
	}
	assertSameIDs(t, got, want)
}

func TestDeadLegacyPeerIsCut(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Websocket.PingInterval = 100 * time.Millisecond })
	adminWatchingScans(t, env)
	// The client stops reading, so it answers no ping frame: the server must drop it.
	waitSubscribed(t, env, 0)
}

// No t.Parallel: it counts the process's goroutines.
func TestSubscribeUnsubscribeLeaksNothing(t *testing.T) {
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	warm := connectLegacy(t, env, token)
	warm.subscribe("w", scanAdded, nil)
	waitSubscribed(t, env, 1)
	warm.stop("w")
	waitSubscribed(t, env, 0)
	baseline := runtime.NumGoroutine()

	c := connectLegacy(t, env, token)
	for i := range 1000 {
		id := strconv.Itoa(i)
		c.subscribe(id, scanAdded, map[string]any{"kinds": []string{"CHILD_LINKED"}})
		c.stop(id)
		if m := c.nextFor(id); m.Type != "complete" {
			t.Fatalf("cycle %d: got %s %s, want complete", i, m.Type, m.Payload)
		}
	}
	c.conn.Close()
	waitSubscribed(t, env, 0)
	waitFor(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= baseline+3 })
}

func eventOf(t testing.TB, m wsMessage) scanEvent {
	t.Helper()
	var p struct {
		Data struct {
			ScanAdded scanEvent `json:"scanAdded"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p.Data.ScanAdded
}
