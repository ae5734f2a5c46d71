package resolvers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// clock is a test clock for logins, lockouts and token expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// newEnvWithClock starts a server whose logins read the returned clock (set to now).
func newEnvWithClock(t *testing.T) (*apitest.Env, *clock) {
	c := &clock{now: time.Now()}
	env := apitest.New(t, func(o *app.Options) { o.Resolvers.Now = c.Now })
	return env, c
}

const loginMutation = `mutation($u: String!, $p: String!) {
	login(username: $u, password: $p) { token expiresAt user { username role lastLoginAt } }
}`

type loginResult struct {
	Login struct {
		Token     string
		ExpiresAt time.Time
		User      struct {
			Username    string
			Role        string
			LastLoginAt *time.Time
		}
	}
}

func login(t *testing.T, env *apitest.Env, username, password string) *apitest.Response {
	t.Helper()
	return env.Do(t, "", loginMutation, map[string]any{"u": username, "p": password})
}

func mustLogin(t *testing.T, env *apitest.Env, username, password string) loginResult {
	t.Helper()
	var got loginResult
	login(t, env, username, password).Decode(t, &got)
	return got
}

// meCode returns the error code of { me { id } } with the token ("" when it works).
func meCode(t *testing.T, env *apitest.Env, token string) string {
	t.Helper()
	return env.Do(t, token, `{ me { id } }`, nil).Code()
}

func TestLoginMeLogout(t *testing.T) {
	t.Parallel()
	env, clk := newEnvWithClock(t)
	user, other := env.NewUser(t, db.RoleBiller, "")

	got := mustLogin(t, env, strings.ToUpper(user.Username), apitest.Password)
	if got.Login.User.Username != user.Username || got.Login.User.Role != "BILLER" {
		t.Errorf("login returned %+v", got.Login.User)
	}
	if at := got.Login.User.LastLoginAt; at == nil || at.Sub(clk.Now()).Abs() > time.Microsecond {
		t.Errorf("lastLoginAt = %v, want the login time %v", got.Login.User.LastLoginAt, clk.Now())
	}
	if want := clk.Now().Add(12 * time.Hour); !got.Login.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt = %v, want login time + 12h = %v", got.Login.ExpiresAt, want)
	}
	if len(got.Login.Token) < 22 { // 128 bits in base64 is 22 characters
		t.Errorf("token %q is shorter than 128 bits", got.Login.Token)
	}
	token := got.Login.Token
	if code := meCode(t, env, token); code != "" {
		t.Fatalf("me with the new token: %s", code)
	}

	var out struct{ Logout bool }
	env.MustDo(t, token, `mutation { logout }`, nil, &out)
	if !out.Logout {
		t.Error("logout returned false")
	}
	if code := meCode(t, env, token); code != "UNAUTHENTICATED" {
		t.Errorf("me after logout: %q, want UNAUTHENTICATED", code)
	}
	if code := meCode(t, env, other); code != "" {
		t.Errorf("logout revoked the user's other token too: %s", code)
	}
}

func TestMeWithoutTokenIsNull(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	var got struct{ Me *struct{ ID string } }
	env.MustDo(t, "", `{ me { id } }`, nil, &got)
	if got.Me != nil {
		t.Errorf("me without a token = %+v, want null", got.Me)
	}
}

func TestTokenExpiresAfterTTL(t *testing.T) {
	t.Parallel()
	env, clk := newEnvWithClock(t)
	user, _ := env.NewUser(t, db.RoleDispatcher, "indore")
	start := time.Now()

	clk.Set(start.Add(-11 * time.Hour))
	fresh := mustLogin(t, env, user.Username, apitest.Password).Login.Token
	clk.Set(start.Add(-13 * time.Hour))
	stale := mustLogin(t, env, user.Username, apitest.Password).Login.Token

	if code := meCode(t, env, fresh); code != "" {
		t.Errorf("a token issued 11h ago (TTL 12h): %s, want it to work", code)
	}
	if resp := env.Do(t, stale, `{ me { id } }`, nil); resp.Code() != "UNAUTHENTICATED" || resp.Status != 401 {
		t.Errorf("a token issued 13h ago: status %d code %q, want 401 UNAUTHENTICATED", resp.Status, resp.Code())
	}
}

func TestTokenTTLIsConfigurable(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now().Add(-2 * time.Hour)}
	env := apitest.New(t, func(o *app.Options) {
		o.Resolvers.Now = clk.Now
		o.Resolvers.TokenTTL = time.Hour
	})
	user, _ := env.NewUser(t, db.RoleBiller, "")
	got := mustLogin(t, env, user.Username, apitest.Password)
	if want := clk.Now().Add(time.Hour); !got.Login.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt = %v, want %v", got.Login.ExpiresAt, want)
	}
	if code := meCode(t, env, got.Login.Token); code != "UNAUTHENTICATED" {
		t.Errorf("a 1h token issued 2h ago: %q, want UNAUTHENTICATED", code)
	}
}

func TestUnknownUserGetsTheWrongPasswordAnswer(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, _ := env.NewUser(t, db.RoleBiller, "")

	wrong := login(t, env, user.Username, "Wrong#Pass1")
	unknown := login(t, env, "no_such_user", "Wrong#Pass1")
	if wrong.Code() != "UNAUTHENTICATED" || unknown.Code() != "UNAUTHENTICATED" {
		t.Fatalf("codes: wrong password %q, unknown user %q; want UNAUTHENTICATED", wrong.Code(), unknown.Code())
	}
	if wrong.Errors[0].Message != unknown.Errors[0].Message {
		t.Errorf("messages differ: %q vs %q", wrong.Errors[0].Message, unknown.Errors[0].Message)
	}
	// and they lock as real accounts do: TestUnknownUsernamesLockLikeRealOnes
}

func TestLockoutAfterFiveFailuresAndItsExpiry(t *testing.T) {
	t.Parallel()
	env, clk := newEnvWithClock(t)
	user, _ := env.NewUser(t, db.RoleDispatcher, "jaipur")

	for i := 1; i <= 4; i++ {
		if code := login(t, env, user.Username, "Wrong#Pass1").Code(); code != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %q, want UNAUTHENTICATED", i, code)
		}
	}
	fifth := login(t, env, user.Username, "Wrong#Pass1")
	lockedUntil := clk.Now().Add(15 * time.Minute).UTC().Truncate(time.Second).Format(time.RFC3339)
	if fifth.Code() != "ACCOUNT_LOCKED" || fifth.Errors[0].Extensions["lockedUntil"] != lockedUntil ||
		!strings.Contains(fifth.Errors[0].Message, lockedUntil) {
		t.Fatalf("fifth failure: %+v, want ACCOUNT_LOCKED until %s", fifth.Errors, lockedUntil)
	}
	if code := login(t, env, user.Username, apitest.Password).Code(); code != "ACCOUNT_LOCKED" {
		t.Errorf("the right password while locked: %q, want ACCOUNT_LOCKED", code)
	}

	clk.Advance(14 * time.Minute)
	if code := login(t, env, user.Username, apitest.Password).Code(); code != "ACCOUNT_LOCKED" {
		t.Errorf("after 14 minutes: %q, want still ACCOUNT_LOCKED", code)
	}
	clk.Advance(time.Minute + time.Second)
	if code := login(t, env, user.Username, "Wrong#Pass1").Code(); code != "UNAUTHENTICATED" {
		t.Errorf("a wrong password after the lock expired: %q, want UNAUTHENTICATED (a new count)", code)
	}
	mustLogin(t, env, user.Username, apitest.Password)

	// a success resets the count: four more failures do not lock
	for range 4 {
		login(t, env, user.Username, "Wrong#Pass1")
	}
	mustLogin(t, env, user.Username, apitest.Password)
}

func TestConcurrentFailuresAllCount(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, _ := env.NewUser(t, db.RoleBiller, "")

	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			login(t, env, user.Username, "Wrong#Pass1")
		}()
	}
	wg.Wait()
	if code := login(t, env, user.Username, apitest.Password).Code(); code != "ACCOUNT_LOCKED" {
		t.Errorf("after 5 concurrent failures the right password gets %q, want ACCOUNT_LOCKED", code)
	}
}

func TestChangePasswordRevokesOtherTokens(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, other := env.NewUser(t, db.RoleDispatcher, "akola")
	current := mustLogin(t, env, user.Username, apitest.Password).Login.Token
	change := `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`

	if code := env.Do(t, current, change, map[string]any{"c": "Wrong#Pass1", "n": "New#Pass22"}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("wrong current password: %q, want BAD_USER_INPUT", code)
	}
	if code := env.Do(t, current, change, map[string]any{"c": apitest.Password, "n": "weakpass"}).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("weak new password: %q, want BAD_USER_INPUT", code)
	}
	var out struct{ ChangePassword bool }
	env.MustDo(t, current, change, map[string]any{"c": apitest.Password, "n": "New#Pass22"}, &out)
	if !out.ChangePassword {
		t.Error("changePassword returned false")
	}
	if code := meCode(t, env, current); code != "" {
		t.Errorf("the token that changed the password: %s, want it to stay valid", code)
	}
	if code := meCode(t, env, other); code != "UNAUTHENTICATED" {
		t.Errorf("another token after a password change: %q, want UNAUTHENTICATED", code)
	}
	if code := login(t, env, user.Username, apitest.Password).Code(); code != "UNAUTHENTICATED" {
		t.Errorf("login with the old password: %q", code)
	}
	mustLogin(t, env, user.Username, "New#Pass22")
}

func TestAuditLogRecordsAuthEventsWithoutSecrets(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin, adminToken := env.NewUser(t, db.RoleAdmin, "")
	user, _ := env.NewUser(t, db.RoleBiller, "")

	login(t, env, user.Username, "Wrong#Pass1")
	login(t, env, "ghost_user", "Ghost#Pass1")
	token := mustLogin(t, env, user.Username, apitest.Password).Login.Token
	mustSucceed(t, env, token, `mutation { changePassword(currentPassword: "Test#Pass1", newPassword: "New#Pass22") }`, nil)
	mustSucceed(t, env, token, `mutation { logout }`, nil)
	var created struct{ CreateUser struct{ ID string } }
	env.MustDo(t, adminToken, `mutation { createUser(input: {username: "audited", password: "Audit#Pass1", role: BILLER}) { id } }`, nil, &created)
	mustSucceed(t, env, adminToken, `mutation($id: ID!) { updateUser(id: $id, input: {password: "Other#Pass1", active: false}) { id } }`,
		map[string]any{"id": created.CreateUser.ID})
	mustSucceed(t, env, adminToken, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": created.CreateUser.ID})

	ctx := context.Background()
	want := map[db.AuditAction]int{db.AuditLoginFailed: 2, db.AuditLogin: 1, db.AuditPasswordChanged: 1, db.AuditLogout: 1,
		db.AuditUserUpdated: 1, db.AuditUserDeleted: 1}
	for action, n := range want {
		entries, err := env.Store.AuditLog(ctx, action)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != n {
			t.Errorf("%s: %d entries, want %d", action, len(entries), n)
		}
		for _, e := range entries {
			if e.RequestID == nil || *e.RequestID == "" {
				t.Errorf("%s entry %d has no request id", action, e.ID)
			}
			for _, js := range []*string{e.Before, e.After} {
				if js != nil && (strings.Contains(*js, "$2a$") || strings.Contains(*js, "Pass1") || strings.Contains(*js, "hash")) {
					t.Errorf("%s entry %d holds a secret: %s", action, e.ID, *js)
				}
			}
		}
	}
	updates, _ := env.Store.AuditLog(ctx, db.AuditUserUpdated)
	if len(updates) == 1 {
		u := updates[0]
		if u.ActorID == nil || *u.ActorID != admin.ID || u.Before == nil || !strings.Contains(*u.Before, `"active": true`) ||
			u.After == nil || !strings.Contains(*u.After, `"active": false`) || !strings.Contains(*u.After, `"passwordChanged": true`) {
			t.Errorf("update entry: actor %v before %v after %v", u.ActorID, deref(u.Before), deref(u.After))
		}
	}
	created2, _ := env.Store.AuditLog(ctx, db.AuditUserCreated)
	last := created2[len(created2)-1]
	if last.ActorID == nil || *last.ActorID != admin.ID || !strings.Contains(deref(last.After), `"username": "audited"`) {
		t.Errorf("create entry: actor %v after %s", last.ActorID, deref(last.After))
	}
}

// mustSucceed sends the request and fails the test on any GraphQL error.
func mustSucceed(t *testing.T, env *apitest.Env, token, query string, vars map[string]any) {
	t.Helper()
	if resp := env.Do(t, token, query, vars); len(resp.Errors) > 0 {
		t.Fatalf("%s: %+v", query, resp.Errors)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
