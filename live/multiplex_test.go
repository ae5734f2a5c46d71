package live_test

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// scanWithUser reaches a user's private field (email): the payload depends on who asks.
const scanWithUser = `subscription($area: String) { scanAdded(areaCode: $area) { id bagQr area { code } user { email } } }`

// Subscribers of the same document, variables and scope share one stream; another scope
// (area, or the user for non-admins) gets its own, and no subscriber receives a scan outside
// its scope, whichever protocol it speaks.
func TestSharedSubscriptionsShareOneStreamPerScope(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, admin1 := env.NewUser(t, db.RoleAdmin, "")
	_, admin2 := env.NewUser(t, db.RoleAdmin, "")
	_, jaipur1 := env.NewUser(t, db.RoleDispatcher, "jaipur")
	_, jaipur2 := env.NewUser(t, db.RoleDispatcher, "jaipur")
	_, indore := env.NewUser(t, db.RoleDispatcher, "indore")

	admins := []*legacyClient{connectLegacy(t, env, admin1), connectProtocol(t, env, transportProtocol, admin2)}
	admins[0].subscribe("a", scanWithUser, nil)
	admins[1].subscribe("b", scanWithUser, nil)
	waitSubscribed(t, env, 2)
	if n := env.App.Hub().Streams(); n != 1 {
		t.Fatalf("two admins with the same subscription run %d streams, want 1", n)
	}
	dispatchers := map[string]*legacyClient{
		"jaipur1": connectLegacy(t, env, jaipur1), "jaipur2": connectProtocol(t, env, transportProtocol, jaipur2),
		"indore": connectLegacy(t, env, indore),
	}
	for _, c := range dispatchers {
		c.subscribe("d", scanWithUser, nil)
	}
	waitSubscribed(t, env, 5)
	if n := env.App.Hub().Streams(); n != 4 {
		t.Fatalf("admins + two jaipur dispatchers + an indore one run %d streams, want 4 (one per scope)", n)
	}

	inIndore := fx.scan("PARENT_SCANNED", "indore")
	inJaipur := fx.scan("PARENT_SCANNED", "jaipur")
	for i, c := range admins {
		id := []string{"a", "b"}[i]
		for _, want := range []int64{inIndore, inJaipur} {
			m := c.nextFor(id)
			if wantType := map[string]string{legacyProtocol: "data", transportProtocol: "next"}[c.protocol]; m.Type != wantType {
				t.Fatalf("%s client got %s, want %s", c.protocol, m.Type, wantType)
			}
			if got := scanOf(t, m); scanID(t, got.ID) != want {
				t.Fatalf("admin %s got scan %s, want %d", id, got.ID, want)
			}
		}
	}
	for name, c := range dispatchers {
		want := map[bool]int64{true: inIndore, false: inJaipur}[name == "indore"]
		if got := c.nextScan("d"); scanID(t, got.ID) != want {
			t.Fatalf("dispatcher %s got scan %s, want only %d (own area)", name, got.ID, want)
		}
	}

	admins[0].stop("a")
	if m := admins[0].nextFor("a"); m.Type != "complete" {
		t.Fatalf("stopped subscription got %s %s, want complete", m.Type, m.Payload)
	}
	waitSubscribed(t, env, 4)
	later := fx.scan("PARENT_SCANNED", "jaipur")
	if got := admins[1].nextScan("b"); scanID(t, got.ID) != later {
		t.Fatalf("the remaining admin got %s, want %d", got.ID, later)
	}
	admins[1].stop("b")
	waitFor(t, "the admins' stream to end", func() bool { return env.App.Hub().Streams() == 3 })
}

// A selection that reaches no User cannot differ between two users of one role and area, so
// their subscribers share a stream; one that reaches a User (by a field or inside a fragment)
// keeps a stream per user, since each sees their own private fields.
func TestSubscriptionsWithoutUsersShareAcrossUsers(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, jaipur1 := env.NewUser(t, db.RoleDispatcher, "jaipur")
	_, jaipur2 := env.NewUser(t, db.RoleDispatcher, "jaipur")
	plain := []*legacyClient{connectLegacy(t, env, jaipur1), connectProtocol(t, env, transportProtocol, jaipur2)}
	for _, c := range plain {
		c.subscribe("p", `subscription { scanAdded { id at bagQr area { code } } }`, nil)
	}
	waitSubscribed(t, env, 2)
	if n := env.App.Hub().Streams(); n != 1 {
		t.Fatalf("two jaipur dispatchers selecting no user run %d streams, want 1", n)
	}
	withUser := []*legacyClient{connectLegacy(t, env, jaipur1), connectLegacy(t, env, jaipur2)}
	for _, c := range withUser {
		c.subscribe("u", `subscription { scanAdded { ...who } } fragment who on Scan { id user { username } }`, nil)
	}
	waitSubscribed(t, env, 4)
	if n := env.App.Hub().Streams(); n != 3 {
		t.Fatalf("adding two users' subscriptions reaching a User through a fragment: %d streams, want 3 (one shared, one per user)", n)
	}
	want := fx.scan("PARENT_SCANNED", "jaipur")
	for i, c := range plain {
		if got := c.nextScan("p"); scanID(t, got.ID) != want {
			t.Fatalf("plain subscriber %d got scan %s, want %d", i, got.ID, want)
		}
	}
	for i, c := range withUser {
		if got := c.nextScan("u"); scanID(t, got.ID) != want {
			t.Fatalf("user-reaching subscriber %d got scan %s, want %d", i, got.ID, want)
		}
	}
}

func scanOf(t *testing.T, m wsMessage) scanEvent {
	t.Helper()
	var p struct {
		Data struct {
			ScanAdded scanEvent `json:"scanAdded"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatalf("bad event %s: %v", m.Payload, err)
	}
	return p.Data.ScanAdded
}

// wideScanAdded makes each event about 4 KB, so that a subscriber that does not read fills
// the socket buffers (up to 4 MB here) within the test's scans.
var wideScanAdded = func() string {
	var b strings.Builder
	b.WriteString("subscription { scanAdded { id")
	for i := range 100 {
		fmt.Fprintf(&b, " at%d: at", i)
	}
	b.WriteString(" } }")
	return b.String()
}()

// A subscriber that stops reading is cut from its shared subscription with a resume point,
// while the one sharing it with it receives every scan; resuming with after loses nothing.
func TestSlowSharedSubscriberIsCutAloneAndResumes(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Live.Buffer = 64 })
	fx := newFixture(t, env)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	fast := connectLegacy(t, env, token)
	slow := connectSmallWindow(t, env, token)
	fast.subscribe("1", wideScanAdded, nil)
	slow.subscribe("1", wideScanAdded, nil)
	waitSubscribed(t, env, 2)

	const batches, perBatch = 200, 5
	fastGot := readScanIDs(fast, batches*perBatch) // the fast subscriber reads as the scans come
	var want []int64
	for range batches {
		first, last := fx.bulkScans(perBatch, "jaipur")
		for id := first; id <= last; id++ {
			want = append(want, id)
		}
		time.Sleep(15 * time.Millisecond) // the shared stream keeps up; only the socket falls behind
	}
	var fastIDs []int64
	for _, id := range <-fastGot {
		fastIDs = append(fastIDs, scanID(t, id))
	}
	if !slices.Equal(fastIDs, want) {
		t.Fatalf("the fast subscriber got %d scans, want all %d in order", len(fastIDs), len(want))
	}

	var got []int64
	var resume string
	for resume == "" {
		m := slow.nextFor("1")
		switch m.Type {
		case "data":
			got = append(got, scanID(t, scanOf(t, m).ID))
		case "error":
			if !strings.Contains(string(m.Payload), "SLOW_SUBSCRIBER") {
				t.Fatalf("slow subscriber ended with %s, want SLOW_SUBSCRIBER", m.Payload)
			}
			var errs []apitest.Error
			if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) == 0 || errs[0].Extensions["after"] == nil {
				t.Fatalf("overflow error %s: want extensions.after", m.Payload)
			}
			resume = errs[0].Extensions["after"].(string)
		default:
			t.Fatalf("slow subscriber got %s %s before the overflow error", m.Type, m.Payload)
		}
	}
	if len(got) == 0 || len(got) == len(want) || scanID(t, resume) != got[len(got)-1] {
		t.Fatalf("slow subscriber got %d of %d scans before the cut, resume point %s", len(got), len(want), resume)
	}
	slow.subscribe("2", scanAdded, map[string]any{"after": resume})
	for len(got) < len(want) {
		got = append(got, scanID(t, slow.nextScan("2").ID))
	}
	assertSameIDs(t, got, want)
}

// connectSmallWindow connects with a tiny receive buffer, so that a client that does not read
// fills the server's socket buffers after a few kilobytes.
func connectSmallWindow(t *testing.T, env *apitest.Env, token string) *legacyClient {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{legacyProtocol}, HandshakeTimeout: 5 * time.Second,
		NetDialContext: (&net.Dialer{Control: func(_, _ string, raw syscall.RawConn) error {
			return raw.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		}}).DialContext}
	c := dialWith(t, env, dialer, nil, map[string]string{"Authorization": "Bearer " + token})
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("got %s, want connection_ack", m.Type)
	}
	return c
}

// A feed batch larger than the buffer reaches every subscriber of a shared subscription: the
// feed publishes a batch at once, faster than the one execution takes it, so the shared
// stream holds more than one subscriber's buffer (each socket is still held to it).
func TestBatchLargerThanBufferReachesSharedSubscribers(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Live.Buffer = 64 })
	fx := newFixture(t, env)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	clients := []*legacyClient{connectLegacy(t, env, token), connectLegacy(t, env, token)}
	for _, c := range clients {
		c.subscribe("1", `subscription { scanAdded { id } }`, nil)
	}
	waitSubscribed(t, env, 2)
	if streams := env.App.Hub().Streams(); streams != 1 {
		t.Fatalf("%d streams for two subscribers of one subscription, want 1 shared", streams)
	}
	first, last := fx.bulkScans(500, "jaipur") // one transaction: one batch of the feed
	want := make([]int64, 0, last-first+1)
	for id := first; id <= last; id++ {
		want = append(want, id)
	}
	for _, c := range clients {
		got := make([]int64, 0, len(want))
		for len(got) < len(want) {
			got = append(got, scanID(t, c.nextScan("1").ID))
		}
		assertSameIDs(t, got, want)
	}
}

// With a flush delay long enough that the pacer holds frames for company (each write then
// carries several, sized to the socket's rate), every subscriber still receives every scan
// exactly once and in order, through the frames' hold, the fan-out's own writes and the due
// timer's (the last frames, after the scans stop).
func TestPacedFramesReachEverySubscriberInOrder(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.Websocket.FlushDelay = time.Second
		o.Websocket.PingInterval = time.Hour // no other message takes held frames along
	})
	fx := newFixture(t, env)
	var clients []*legacyClient
	for range 3 {
		_, admin := env.NewUser(t, db.RoleAdmin, "")
		c := connectProtocol(t, env, transportProtocol, admin)
		c.subscribe("s", `subscription { scanAdded { id } }`, nil)
		clients = append(clients, c)
	}
	waitSubscribed(t, env, len(clients))
	got := make([]<-chan []string, len(clients))
	for i, c := range clients {
		got[i] = readScanIDs(c, 400)
	}
	var want []int64
	for range 20 { // spread over more than the pacer's window, so that its delay is on
		first, last := fx.bulkScans(20, "jaipur")
		for id := first; id <= last; id++ {
			want = append(want, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range clients {
		var ids []int64
		for _, id := range <-got[i] {
			ids = append(ids, scanID(t, id))
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("subscriber %d got %d scans, want all %d once each, in order", i, len(ids), len(want))
		}
	}
}

// readScanIDs reads up to n scanAdded events of the client in its own goroutine and sends
// their ids once done (fewer if the stream ends or stalls for 20 s).
func readScanIDs(c *legacyClient, n int) <-chan []string {
	got := make(chan []string, 1)
	go func() {
		var ids []string
		for len(ids) < n {
			m, err := c.read(20 * time.Second)
			if err != nil || !c.isResult(m) {
				break
			}
			var p struct{ Data struct{ ScanAdded scanEvent } }
			if json.Unmarshal(m.Payload, &p) != nil {
				break
			}
			ids = append(ids, p.Data.ScanAdded.ID)
		}
		got <- ids
	}()
	return got
}
