package live_test

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/live"
)

func TestResumeWithAfterDeliversEachScanOnceInOrder(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx, c, token := adminWatchingScans(t, env)
	want := fx.scans(5, "jaipur")
	var got []int64
	for range 3 {
		got = append(got, scanID(t, c.nextScan("1").ID))
	}
	c.conn.Close()
	waitSubscribed(t, env, 0)

	want = append(want, fx.scans(5, "jaipur")...)
	c = connectLegacy(t, env, token)
	c.subscribe("2", scanAdded, map[string]any{"after": scanGlobalID(got[len(got)-1])})
	for range 7 {
		got = append(got, scanID(t, c.nextScan("2").ID))
	}
	waitSubscribed(t, env, 1)
	want = append(want, fx.scans(5, "jaipur")...) // live after the replay
	for range 5 {
		got = append(got, scanID(t, c.nextScan("2").ID))
	}
	assertSameIDs(t, got, want)
	assertQuiet(t, c)
}

func TestScanOnSharedDatabaseReachesOtherInstance(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := apitest.NewOn(t, a.DatabaseURL)
	_, token := a.NewUser(t, db.RoleAdmin, "")
	c := connectLegacy(t, b, token)
	c.subscribe("1", scanAdded, nil)
	waitSubscribed(t, b, 1)
	id := newFixture(t, a).scan("PARENT_SCANNED", "hisar")
	if got := scanID(t, c.nextScan("1").ID); got != id {
		t.Fatalf("instance B got scan %d, want %d", got, id)
	}
}

func TestRolledBackWritePublishesNothing(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	fx := newFixture(t, env)
	bill := fx.bill("BILL-RB")
	c := connectLegacy(t, env, token)
	c.subscribe("s", scanAdded, nil)
	c.subscribe("b", `subscription { billUpdated { id description } }`, nil)
	waitSubscribed(t, env, 2)
	fx.rolledBack(bill)
	marker := fx.scan("PARENT_SCANNED", "jaipur") // committed after the rollback
	if got := scanID(t, c.nextScan("s").ID); got != marker {
		t.Fatalf("first scan event is %d, want %d (the rolled-back scan must not be published)", got, marker)
	}
	fx.describe(bill, "committed")
	for { // the bill's INSERT may still be in flight to the hub: skip that event
		m := c.nextFor("b")
		if contains(m.Payload, "rolled back") {
			t.Fatalf("bill event %s: the rolled-back update was published", m.Payload)
		}
		if contains(m.Payload, `"description":"committed"`) {
			break
		}
	}
}

func TestBillUpdatedFollowsOneBillOrAll(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleBiller, "")
	fx := newFixture(t, env)
	c := connectLegacy(t, env, token)
	q := `subscription($id: ID) { billUpdated(id: $id) { id billNumber description } }`
	c.subscribe("all", q, nil)
	waitSubscribed(t, env, 1)
	one, two := fx.bill("BILL-ONE"), fx.bill("BILL-TWO")
	// The creations are read before the changes are made: a creation read late
	// carries the row as it is by then, which would show a change ahead of its turn.
	for created := map[string]bool{}; len(created) < 2; {
		m := c.nextFor("all")
		if !contains(m.Payload, `"description":null`) {
			t.Fatalf("all-bills subscriber got %s before any change, want the creations", m.Payload)
		}
		created[string(m.Payload)] = true
	}
	c.subscribe("one", q, map[string]any{"id": billGlobalID(one)})
	waitSubscribed(t, env, 2)
	// BILL-ONE's change begins first (the lower transaction id) and is held open while
	// BILL-TWO's commits: the changes arrive in commit order, not transaction or bill order.
	first := fx.heldDescribe(one, "first")
	fx.describe(two, "second")
	if m := nextDescribed(t, c, "all"); !contains(m.Payload, `"BILL-TWO"`) || !contains(m.Payload, `"second"`) {
		t.Fatalf("all-bills subscriber got %s, want BILL-TWO's \"second\" (committed first)", m.Payload)
	}
	commit(t, first)
	if m := nextDescribed(t, c, "one"); !contains(m.Payload, `"BILL-ONE"`) || !contains(m.Payload, `"first"`) {
		t.Fatalf("bill subscriber got %s, want BILL-ONE's new state", m.Payload)
	}
	if m := c.nextFor("all"); !contains(m.Payload, `"BILL-ONE"`) || !contains(m.Payload, `"first"`) {
		t.Fatalf("all-bills subscriber got %s, want BILL-ONE's \"first\" after BILL-TWO's", m.Payload)
	}
	assertQuiet(t, c)
}

func TestStatsUpdatedCoalescesChanges(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Live.StatsInterval = 300 * time.Millisecond })
	_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
	fx := newFixture(t, env)
	c := connectLegacy(t, env, token)
	c.subscribe("1", `subscription { statsUpdated { totalScans } }`, nil)
	if got := totalScans(t, c.nextFor("1")); got != 0 {
		t.Fatalf("initial stats: %d scans, want 0", got)
	}
	fx.scans(20, "jaipur")
	fx.scans(3, "indore") // another area: not counted
	deadline := time.Now().Add(10 * time.Second)
	events := 0
	for got := 0; got != 20; events++ {
		if time.Now().After(deadline) {
			t.Fatalf("stats never reached 20 scans (last %d)", got)
		}
		got = totalScans(t, c.nextFor("1"))
	}
	if events >= 20 {
		t.Fatalf("%d stats events for 20 scans: changes were not coalesced", events)
	}
}

func TestFeedConnectionKilledLosesNoEvent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx, c, _ := adminWatchingScans(t, env)
	want := fx.scans(5, "jaipur")
	killListener(t, fx.db)
	want = append(want, fx.scans(5, "jaipur")...) // while it reconnects
	killListener(t, fx.db)
	want = append(want, fx.scans(5, "jaipur")...)
	var got []int64
	for range want {
		got = append(got, scanID(t, c.nextScan("1").ID))
	}
	assertSameIDs(t, got, want)
	assertQuiet(t, c)
}

// killListener terminates the feed's connections (the hubs' own pools) on the test database.
func killListener(t testing.TB, conn *sql.DB) {
	t.Helper()
	waitFor(t, "the feed's connections", func() bool {
		var n int
		err := conn.QueryRow(`
			SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND datname = current_database()`, live.ApplicationName).Scan(&n)
		return err == nil && n > 0
	})
}

// assertSameIDs fails unless got is want (each once, in order).
func assertSameIDs(t testing.TB, got, want []int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d is scan %d, want %d (got %v, want %v)", i, got[i], want[i], got, want)
		}
	}
}

// assertQuiet fails if another event arrives within a short while (a duplicate, say).
func assertQuiet(t testing.TB, c *legacyClient) {
	t.Helper()
	if len(c.held) > 0 {
		t.Fatalf("unexpected extra messages %+v", c.held)
	}
	if m, err := c.read(300 * time.Millisecond); err == nil {
		t.Fatalf("unexpected extra event %s %s", m.Type, m.Payload)
	}
}

func totalScans(t testing.TB, m wsMessage) int {
	t.Helper()
	var p struct {
		Data struct {
			StatsUpdated struct {
				TotalScans int `json:"totalScans"`
			} `json:"statsUpdated"`
		} `json:"data"`
	}
	if m.Type != "data" || json.Unmarshal(m.Payload, &p) != nil {
		t.Fatalf("bad stats event %s %s", m.Type, m.Payload)
	}
	return p.Data.StatsUpdated.TotalScans
}

// nextDescribed returns the next bill event with a description, skipping the events of the
// bills' INSERTs, which may reach the hub after the subscription started.
func nextDescribed(t testing.TB, c *legacyClient, id string) wsMessage {
	t.Helper()
	for {
		if m := c.nextFor(id); !contains(m.Payload, `"description":null`) {
			return m
		}
	}
}

func billGlobalID(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("Bill:" + strconv.FormatInt(id, 10)))
}

func contains(raw []byte, s string) bool { return strings.Contains(string(raw), s) }
