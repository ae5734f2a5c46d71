package live_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

const scanAdded = `subscription($area: String, $kinds: [ScanKind!], $after: ID) {
	scanAdded(areaCode: $area, kinds: $kinds, after: $after) { id kind bagQr at user { username } area { code } }
}`

// scanID is the database id of a Scan global id.
func scanID(t testing.TB, global string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(global)
	if err != nil {
		t.Fatalf("bad id %q", global)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(string(raw), "Scan:"), 10, 64)
	if err != nil {
		t.Fatalf("bad id %q", global)
	}
	return id
}

func scanGlobalID(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("Scan:" + strconv.FormatInt(id, 10)))
}

func TestLegacyScanAddedFiltersByKindAndArea(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	fx := newFixture(t, env)
	c := connectLegacy(t, env, token)
	c.subscribe("1", scanAdded, map[string]any{"area": "jaipur", "kinds": []string{"CHILD_LINKED"}})
	c.subscribe("2", scanAdded, nil)
	waitSubscribed(t, env, 2)

	other := fx.scan("CHILD_LINKED", "indore")
	wrongKind := fx.scan("PARENT_SCANNED", "jaipur")
	want := fx.scan("CHILD_LINKED", "jaipur")

	got := c.nextScan("1")
	if scanID(t, got.ID) != want || got.Kind != "CHILD_LINKED" || got.Area == nil || got.Area.Code != "jaipur" {
		t.Fatalf("filtered subscriber got %+v, want scan %d", got, want)
	}
	all := []int64{}
	for range 3 {
		all = append(all, scanID(t, c.nextScan("2").ID))
	}
	if all[0] != other || all[1] != wrongKind || all[2] != want {
		t.Fatalf("unfiltered subscriber got %v, want [%d %d %d]", all, other, wrongKind, want)
	}
}

func TestDispatcherSeesOnlyOwnArea(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
	fx := newFixture(t, env)
	c := connectLegacy(t, env, token)

	c.subscribe("other", scanAdded, map[string]any{"area": "indore"})
	if m := c.nextFor("other"); !strings.Contains(string(m.Payload), "FORBIDDEN") {
		t.Fatalf("another area: got %s %s, want FORBIDDEN", m.Type, m.Payload)
	}

	c.subscribe("own", scanAdded, nil) // no area: the dispatcher's own
	waitSubscribed(t, env, 1)
	fx.scan("PARENT_SCANNED", "indore")
	own := fx.scan("PARENT_SCANNED", "jaipur")
	if got := c.nextScan("own"); scanID(t, got.ID) != own {
		t.Fatalf("dispatcher got scan %s, want only %d (own area)", got.ID, own)
	}
}

func TestBadTokenClosesWith4403(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for name, payload := range map[string]any{
		"bad token":     map[string]string{"Authorization": "Bearer nope"},
		"bad authToken": map[string]string{"authToken": "nope"},
		"no token":      map[string]string{},
	} {
		c := dialLegacy(t, env, nil, payload)
		if code, reason := c.closeCode(); code != 4403 || reason == "" {
			t.Errorf("%s: closed with %d %q, want 4403 and a reason", name, code, reason)
		}
	}
}

// waitSubscribed waits until the server's hub serves n subscriptions.
func waitSubscribed(t testing.TB, env *apitest.Env, n int) {
	t.Helper()
	waitFor(t, "subscriptions", func() bool { return env.App.Hub().Subscribers() == n })
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// adminWatchingScans signs in an admin, subscribes "1" to every scan and waits until the
// server serves it. It returns a fixture for the database, the client and the token.
func adminWatchingScans(t testing.TB, env *apitest.Env) (*fixture, *legacyClient, string) {
	t.Helper()
	_, token := env.NewUser(t, db.RoleAdmin, "")
	c := connectLegacy(t, env, token)
	c.subscribe("1", scanAdded, nil)
	waitSubscribed(t, env, 1)
	return newFixture(t, env), c, token
}
