package live_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// rightsEnd is how soon a change of a user's rights reaches their open sockets (SPEC.md). The
// tests keep WS_RECHECK_INTERVAL at its 30 s default, so only the session notifications can
// close a socket in time.
const rightsEnd = time.Second

var protocols = []string{legacyProtocol, transportProtocol}

func userGlobalID(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("User:" + strconv.FormatInt(id, 10)))
}

var opIDs atomic.Int64

// op runs one query or mutation over the socket and returns its result.
func (c *legacyClient) op(query string, vars map[string]any) *apitest.Response {
	c.t.Helper()
	id := "op" + strconv.FormatInt(opIDs.Add(1), 10)
	c.subscribe(id, query, vars)
	m := c.nextFor(id)
	var out apitest.Response
	switch {
	case c.isResult(m):
		if err := json.Unmarshal(m.Payload, &out); err != nil {
			c.t.Fatalf("bad result %s: %v", m.Payload, err)
		}
	case m.Type == "error":
		if err := json.Unmarshal(m.Payload, &out.Errors); err != nil {
			c.t.Fatalf("bad error %s: %v", m.Payload, err)
		}
	default:
		c.t.Fatalf("got %s %s, want the result of %s", m.Type, m.Payload, id)
	}
	return &out
}

// closedWithin waits up to d for the server to close the socket and returns the code and
// reason; messages before the close are skipped.
func (c *legacyClient) closedWithin(d time.Duration) (int, string) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		_, err := c.read(time.Until(deadline))
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		c.t.Fatalf("socket not closed within %v: %v", d, err)
	}
}

const (
	createUserOp = `mutation($in: CreateUserInput!) { createUser(input: $in) { id role } }`
	updateUserOp = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`
	scanParentOp = `mutation($qr: String!) { scanParent(qr: $qr) { qr area { code } } }`
)

func newAdminInput() map[string]any {
	return map[string]any{"in": map[string]any{"username": fmt.Sprintf("a_%d", rand.Int64()),
		"password": apitest.Password, "role": "ADMIN"}}
}

func randomParentQR() string { return fmt.Sprintf("SB%05d", rand.IntN(100000)) }

// rightsChange is one kind of change to a user, made through an instance's HTTP API.
type rightsChange struct {
	name string
	role db.Role
	area string
	// change makes the change; token is the one the sockets under test use.
	change func(t *testing.T, env *apitest.Env, admin string, user *db.User, token string)
	// otherTokenStays: a socket on another token of the user stays open (logout revokes
	// only the token it was sent with).
	otherTokenStays bool
}

// twoInstances starts instances a and b on one database and returns them with an admin's token.
func twoInstances(t *testing.T) (a, b *apitest.Env, admin string) {
	t.Helper()
	a = apitest.New(t)
	b = apitest.NewOn(t, a.DatabaseURL)
	_, admin = a.NewUser(t, db.RoleAdmin, "")
	return a, b, admin
}

// closesWith4403 fails the test unless the server closes the socket with 4403 within rightsEnd.
func closesWith4403(t *testing.T, c *legacyClient) {
	t.Helper()
	if code, reason := c.closedWithin(rightsEnd); code != 4403 || reason == "" {
		t.Fatalf("closed with %d %q, want 4403 and a reason", code, reason)
	}
}

func mustDo(t *testing.T, env *apitest.Env, token, query string, vars map[string]any) {
	t.Helper()
	if resp := env.Do(t, token, query, vars); len(resp.Errors) > 0 {
		t.Fatalf("%s: %+v", query, resp.Errors)
	}
}

func adminUpdates(in map[string]any) func(*testing.T, *apitest.Env, string, *db.User, string) {
	return func(t *testing.T, env *apitest.Env, admin string, user *db.User, _ string) {
		mustDo(t, env, admin, updateUserOp, map[string]any{"id": userGlobalID(user.ID), "in": in})
	}
}

var rightsChanges = []rightsChange{
	{name: "role", role: db.RoleAdmin, change: adminUpdates(map[string]any{"role": "BILLER"})},
	{name: "area", role: db.RoleDispatcher, area: "jaipur", change: adminUpdates(map[string]any{"areaCode": "lucknow"})},
	{name: "deactivation", role: db.RoleBiller, change: adminUpdates(map[string]any{"active": false})},
	{name: "password set by an admin", role: db.RoleBiller, change: adminUpdates(map[string]any{"password": "Other#Pass2"})},
	{name: "password changed by the user", role: db.RoleDispatcher, area: "jaipur",
		change: func(t *testing.T, env *apitest.Env, _ string, _ *db.User, token string) {
			mustDo(t, env, token, `mutation { changePassword(currentPassword: "`+apitest.Password+`", newPassword: "Other#Pass2") }`, nil)
		}},
	{name: "logout", role: db.RoleBiller, otherTokenStays: true,
		change: func(t *testing.T, env *apitest.Env, _ string, _ *db.User, token string) {
			mustDo(t, env, token, `mutation { logout }`, nil)
		}},
	{name: "deletion", role: db.RoleBiller,
		change: func(t *testing.T, env *apitest.Env, admin string, user *db.User, _ string) {
			mustDo(t, env, admin, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": userGlobalID(user.ID)})
		}},
}

// TestRightsChangesCloseOpenSocketsOnEveryInstance: each kind of change, made through
// instance A, closes the user's sockets on A and on B (one database) with 4403 within a
// second, over both sub-protocols; the server never sends the token back on the way.
func TestRightsChangesCloseOpenSocketsOnEveryInstance(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	for _, protocol := range protocols {
		for _, tc := range rightsChanges {
			t.Run(protocol+"/"+tc.name, func(t *testing.T) {
				user, token := a.NewUser(t, tc.role, tc.area)
				other := a.TokenFor(t, user.ID)
				onA := connectProtocol(t, a, protocol, token)
				onB := connectProtocol(t, b, protocol, token)
				otherOnB := connectProtocol(t, b, protocol, other)
				for _, c := range []*legacyClient{onA, onB, otherOnB} {
					if r := c.op(`{ me { username } }`, nil); len(r.Errors) > 0 {
						t.Fatalf("before the change: %+v", r.Errors)
					}
				}
				tc.change(t, a, admin, user, token)
				closing := []*legacyClient{onA, onB}
				if !tc.otherTokenStays {
					closing = append(closing, otherOnB)
				}
				for _, c := range closing {
					closesWith4403(t, c)
				}
				if tc.otherTokenStays {
					if r := otherOnB.op(`{ me { username } }`, nil); len(r.Errors) > 0 {
						t.Errorf("the socket on the user's other token: %+v, want it to stay up", r.Errors)
					}
				}
				for _, c := range []*legacyClient{onA, onB, otherOnB} {
					assertNoToken(t, c, token, other)
				}
			})
		}
	}
}

func assertNoToken(t *testing.T, c *legacyClient, tokens ...string) {
	t.Helper()
	for _, f := range c.frames {
		for _, token := range tokens {
			if strings.Contains(f, token) {
				t.Errorf("the server sent the bearer token back: %s", f)
			}
		}
	}
}

// TestDemotedAdminSocketCannotCreateAdmin: an admin's socket opened before their demotion
// (through the other instance) is closed, and neither a new socket on the same token nor
// HTTP can create an ADMIN any more.
func TestDemotedAdminSocketCannotCreateAdmin(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			demoted, token := a.NewUser(t, db.RoleAdmin, "")
			c := connectProtocol(t, b, protocol, token)
			if r := c.op(createUserOp, newAdminInput()); len(r.Errors) > 0 {
				t.Fatalf("an admin's socket could not create an admin: %+v", r.Errors)
			}
			adminUpdates(map[string]any{"role": "BILLER"})(t, a, admin, demoted, "")
			closesWith4403(t, c)
			again := connectProtocol(t, b, protocol, token)
			if code := again.op(createUserOp, newAdminInput()).Code(); code != "FORBIDDEN" {
				t.Errorf("a demoted admin's new socket: createUser gave %q, want FORBIDDEN", code)
			}
			if code := a.Do(t, token, createUserOp, newAdminInput()).Code(); code != "FORBIDDEN" {
				t.Errorf("a demoted admin over HTTP: createUser gave %q, want FORBIDDEN", code)
			}
		})
	}
}

// TestDispatcherMovedToAnotherAreaLosesTheOldOne: a jaipur dispatcher moved to lucknow
// (through instance A) stops receiving jaipur scans on instance B's socket within a second,
// and the socket they reconnect cannot scan jaipur bags and receives only lucknow scans.
func TestDispatcherMovedToAnotherAreaLosesTheOldOne(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	fx := newFixture(t, a)
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			dispatcher, token := a.NewUser(t, db.RoleDispatcher, "jaipur")
			c := connectProtocol(t, b, protocol, token)
			c.subscribe("scans", scanAdded, nil)
			waitSubscribed(t, b, 1)
			if id := fx.scan("PARENT_SCANNED", "jaipur"); scanID(t, c.nextScan("scans").ID) != id {
				t.Fatalf("the jaipur dispatcher did not receive jaipur scan %d", id)
			}
			qr := randomParentQR()
			if r := c.op(scanParentOp, map[string]any{"qr": qr}); len(r.Errors) > 0 {
				t.Fatalf("scanParent in jaipur: %+v", r.Errors)
			}

			adminUpdates(map[string]any{"areaCode": "lucknow"})(t, a, admin, dispatcher, "")
			closesWith4403(t, c)
			waitSubscribed(t, b, 0)

			again := connectProtocol(t, b, protocol, token)
			again.subscribe("scans", scanAdded, nil)
			waitSubscribed(t, b, 1)
			fx.scan("PARENT_SCANNED", "jaipur")
			lucknow := fx.scan("PARENT_SCANNED", "lucknow")
			if got := again.nextScan("scans"); scanID(t, got.ID) != lucknow {
				t.Fatalf("the moved dispatcher received %+v, want lucknow scan %d only", got, lucknow)
			}
			if code := again.op(scanParentOp, map[string]any{"qr": qr}).Code(); code != "FORBIDDEN" {
				t.Errorf("scanParent of a jaipur bag after the move gave %q, want FORBIDDEN", code)
			}
			again.stop("scans")
			waitSubscribed(t, b, 0)
		})
	}
}

// TestLostSessionsListenRechecksEverySocket: a change committed while the sessions LISTEN
// connection is down (no NOTIFY reaches the instance) still closes the socket, because the
// instance re-reads every socket's session when the connection is back.
func TestLostSessionsListenRechecksEverySocket(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	user, token := env.NewUser(t, db.RoleAdmin, "")
	c := connectLegacy(t, env, token)
	tx, err := fx.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	err = tx.QueryRow(`
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, "tracetrack_sessions").Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the sessions LISTEN connection: %d killed, %v", killed, err)
	}
	if _, err := tx.Exec(`UPDATE users SET role = 'BILLER' WHERE id = $1`, user.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// lib/pq reconnects after at least 100 ms; the re-check follows at once.
	if code, _ := c.closedWithin(5 * time.Second); code != 4403 {
		t.Fatalf("closed with %d, want 4403", code)
	}
}

// TestSocketsPerUserAreCapped: one user holds at most WS_MAX_PER_USER sockets; the next
// connection_init is closed with 4429 and a reason naming the setting (so graphql-ws clients
// do not retry it), other users are not affected, and closing a socket makes room again.
func TestSocketsPerUserAreCapped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Websocket.MaxPerUser = 2 })
	_, other := env.NewUser(t, db.RoleBiller, "")
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			user, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
			first := connectProtocol(t, env, protocol, token)
			connectProtocol(t, env, protocol, token)
			if held := env.App.SocketsOfUser(user.ID); held != 2 {
				t.Fatalf("two acknowledged sockets, the server counts %d", held)
			}
			refused := dialProtocol(t, env, protocol, nil, map[string]string{"Authorization": "Bearer " + token})
			code, reason := refused.closedWithin(5 * time.Second)
			if code != 4429 || !strings.Contains(reason, "WS_MAX_PER_USER") {
				t.Fatalf("third socket closed with %d %q, want 4429 naming WS_MAX_PER_USER", code, reason)
			}
			connectProtocol(t, env, protocol, other)
			first.conn.Close()
			// the room is made when the server has seen the close, not when the client sent it
			waitFor(t, "the server to count the closed socket out", func() bool { return env.App.SocketsOfUser(user.ID) == 1 })
			again := dialProtocol(t, env, protocol, nil, map[string]string{"Authorization": "Bearer " + token})
			if m := again.next(); m.Type != "connection_ack" {
				t.Fatalf("after closing a socket, a new one got %s %s", m.Type, m.Payload)
			}
			again.conn.Close()
		})
	}
}

// TestSubscriptionsPerSocketAreCapped: the subscription beyond WS_MAX_SUBSCRIPTIONS gets
// RATE_LIMITED with a message; the socket and its other subscriptions go on, and completing
// one makes room for another.
func TestSubscriptionsPerSocketAreCapped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Websocket.MaxSubscriptions = 2 })
	_, token := env.NewUser(t, db.RoleAdmin, "")
	fx := newFixture(t, env)
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			c := connectProtocol(t, env, protocol, token)
			c.subscribe("1", scanAdded, nil)
			c.subscribe("2", scanAdded, nil)
			waitSubscribed(t, env, 2)
			c.subscribe("3", scanAdded, nil)
			m := c.nextFor("3")
			var refused apitest.Response
			if err := json.Unmarshal(m.Payload, &refused); err != nil || !c.isResult(m) {
				t.Fatalf("third subscription: %s %s, want a result with an error", m.Type, m.Payload)
			}
			if refused.Code() != "RATE_LIMITED" || !strings.Contains(refused.Errors[0].Message, "WS_MAX_SUBSCRIPTIONS") {
				t.Fatalf("third subscription: %+v, want RATE_LIMITED naming WS_MAX_SUBSCRIPTIONS", refused.Errors)
			}
			id := fx.scan("PARENT_SCANNED", "jaipur")
			for _, sub := range []string{"1", "2"} {
				if got := scanID(t, c.nextScan(sub).ID); got != id {
					t.Fatalf("subscription %s got scan %d, want %d", sub, got, id)
				}
			}
			c.stop("1")
			waitSubscribed(t, env, 1)
			c.subscribe("4", scanAdded, nil)
			waitSubscribed(t, env, 2)
			id = fx.scan("PARENT_SCANNED", "jaipur")
			if got := scanID(t, c.nextScan("4").ID); got != id {
				t.Fatalf("subscription 4 got scan %d, want %d", got, id)
			}
			c.stop("2")
			c.stop("4")
			waitSubscribed(t, env, 0)
		})
	}
}

// TestConnectionAckDoesNotEchoTheToken: the ack of either init payload shape, and every
// frame after it (results, errors), carry no token.
func TestConnectionAckDoesNotEchoTheToken(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleBiller, "")
	for _, protocol := range protocols {
		for _, payload := range []map[string]string{{"Authorization": "Bearer " + token}, {"authToken": token}} {
			c := dialProtocol(t, env, protocol, nil, payload)
			if m := c.next(); m.Type != "connection_ack" {
				t.Fatalf("%s: got %s %s, want connection_ack", protocol, m.Type, m.Payload)
			}
			c.op(`{ me { username } }`, nil)
			c.op(`{ nosuchfield }`, nil)
			c.op(createUserOp, newAdminInput()) // FORBIDDEN for a biller
			assertNoToken(t, c, token)
		}
	}
}
