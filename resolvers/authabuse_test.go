package resolvers_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

const changePasswordMutation = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`

func changePassword(t *testing.T, env *apitest.Env, token, current string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, changePasswordMutation, map[string]any{"c": current, "n": "Fresh#Pass9"})
}

// counter reads one counter of the server's /metrics.
func counter(t *testing.T, env *apitest.Env, name string) float64 {
	t.Helper()
	resp, err := http.Get(env.Server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		if value, ok := strings.CutPrefix(scanner.Text(), name+" "); ok {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return 0
}

// changePassword is a login in all but name: wrong current passwords count as failed logins
// and lock the account, a locked account is refused without a comparison, and an admin's
// unlockUser ends the lock and the count at once. The failure and lockout metrics move with
// each (not parallel: the counters are the process's, so no other test may move them now).
func TestWrongCurrentPasswordsLockAndAdminUnlocks(t *testing.T) {
	env := apitest.New(t)
	_, adminToken := env.NewUser(t, db.RoleAdmin, "")
	user, token := env.NewUser(t, db.RoleBiller, "")
	_, billerToken := env.NewUser(t, db.RoleBiller, "")
	failuresBefore := counter(t, env, "tracetrack_login_failures_total")
	lockoutsBefore := counter(t, env, "tracetrack_account_lockouts_total")

	for i := 1; i <= 4; i++ {
		if got := changePassword(t, env, token, "Wrong#Pass1"); got.Code() != "BAD_USER_INPUT" || !strings.Contains(got.Errors[0].Message, "lock") {
			t.Fatalf("wrong current password %d: %+v, want BAD_USER_INPUT warning of the lock", i, got.Errors)
		}
	}
	if code := changePassword(t, env, token, "Wrong#Pass1").Code(); code != "ACCOUNT_LOCKED" {
		t.Fatalf("fifth wrong current password: %q, want ACCOUNT_LOCKED", code)
	}
	if code := changePassword(t, env, token, apitest.Password).Code(); code != "ACCOUNT_LOCKED" {
		t.Errorf("the right current password while locked: %q, want ACCOUNT_LOCKED", code)
	}
	if code := login(t, env, user.Username, apitest.Password).Code(); code != "ACCOUNT_LOCKED" {
		t.Errorf("login while locked by changePassword failures: %q, want ACCOUNT_LOCKED", code)
	}
	login(t, env, "nobody_here", "Wrong#Pass1") // an unknown username is a failed login too
	if got := counter(t, env, "tracetrack_login_failures_total") - failuresBefore; got != 8 {
		t.Errorf("login_failures_total moved by %v, want 8 (5 wrong, 2 while locked, 1 unknown user)", got)
	}
	if got := counter(t, env, "tracetrack_account_lockouts_total") - lockoutsBefore; got != 1 {
		t.Errorf("account_lockouts_total moved by %v, want 1", got)
	}

	id := idOf(t, env, token)
	unlock := `mutation($id: ID!) { unlockUser(id: $id) { id username } }`
	if code := env.Do(t, billerToken, unlock, map[string]any{"id": id}).Code(); code != "FORBIDDEN" {
		t.Errorf("a biller's unlockUser: %q, want FORBIDDEN", code)
	}
	if code := env.Do(t, adminToken, unlock, map[string]any{"id": "VXNlcjo5OTk5OTk5"}).Code(); code != "NOT_FOUND" {
		t.Errorf("unlockUser of no user: %q, want NOT_FOUND", code)
	}
	var got struct{ UnlockUser struct{ ID, Username string } }
	env.MustDo(t, adminToken, unlock, map[string]any{"id": id}, &got)
	if got.UnlockUser.Username != user.Username {
		t.Errorf("unlockUser returned %+v", got.UnlockUser)
	}
	// the count starts again at zero: four failures do not lock, the right password works
	for range 4 {
		login(t, env, user.Username, "Wrong#Pass1")
	}
	mustLogin(t, env, user.Username, apitest.Password)
	entries, err := env.Store.AuditLog(context.Background(), db.AuditUserUnlocked)
	if err != nil || len(entries) != 1 || entries[0].Before == nil || !strings.Contains(*entries[0].Before, `"failedLogins": 5`) {
		t.Errorf("USER_UNLOCKED audit entries = %d (%v), want one with the lock before", len(entries), err)
		if len(entries) > 0 && entries[0].Before != nil {
			t.Logf("before: %s", *entries[0].Before)
		}
	}
}

// One request carries at most one password comparison, however it is spelled: aliases,
// fragments, login beside changePassword. None of the refused ones counts or hashes.
func TestOnePasswordCheckPerRequest(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, token := env.NewUser(t, db.RoleBiller, "")
	for _, q := range []string{
		`mutation { a: login(username: "x", password: "y") { token } b: login(username: "z", password: "w") { token } }`,
		`mutation { a: login(username: "x", password: "y") { token } ...M } fragment M on Mutation { b: login(username: "z", password: "w") { token } }`,
		`mutation { login(username: "x", password: "y") { token } changePassword(currentPassword: "a", newPassword: "b") }`,
	} {
		if got := env.Do(t, token, q, nil); got.Code() != "BAD_USER_INPUT" || !strings.Contains(got.Errors[0].Message, "one login") {
			t.Errorf("%s: %+v, want BAD_USER_INPUT saying one per request", q, got.Errors)
		}
	}
	aliases := "mutation {"
	for i := range 20 {
		aliases += " a" + strconv.Itoa(i) + `: login(username: "` + user.Username + `", password: "Wrong#Pass1") { token }`
	}
	if code := env.Do(t, "", aliases+" }", nil).Code(); code != "BAD_USER_INPUT" {
		t.Errorf("20 aliased logins: %q, want BAD_USER_INPUT", code)
	}
	mustLogin(t, env, user.Username, apitest.Password) // none of them counted against the user
	skipped := `mutation($s: Boolean!) { a: login(username: "x", password: "y") { token } b: login(username: "x", password: "y") @skip(if: $s) { token } }`
	if code := env.Do(t, "", skipped, map[string]any{"s": true}).Code(); code != "UNAUTHENTICATED" {
		t.Errorf("a second login skipped by @skip: %q, want the one login's own answer", code)
	}
}

// A lockout tells nothing about which usernames exist: a name nobody has answers five wrong
// passwords exactly as a real account does, lock and its end included.
func TestUnknownUsernamesLockLikeRealOnes(t *testing.T) {
	t.Parallel()
	env, clk := newEnvWithClock(t)
	real, _ := env.NewUser(t, db.RoleBiller, "")
	answers := func(username string) []string {
		var out []string
		for range 6 {
			got := login(t, env, username, "Wrong#Pass1")
			out = append(out, got.Code()+": "+got.Errors[0].Message)
		}
		return out
	}
	realAnswers, ghostAnswers := answers(real.Username), answers("nobody_"+real.Username[2:])
	for i := range realAnswers {
		if realAnswers[i] != ghostAnswers[i] {
			t.Errorf("attempt %d: a real account got %q, an unknown name %q", i+1, realAnswers[i], ghostAnswers[i])
		}
	}
	if !strings.HasPrefix(ghostAnswers[4], "ACCOUNT_LOCKED") {
		t.Errorf("fifth wrong password for an unknown name: %q, want ACCOUNT_LOCKED", ghostAnswers[4])
	}
	clk.Advance(15*time.Minute + time.Second)
	if code := login(t, env, "NOBODY_"+real.Username[2:], "Wrong#Pass1").Code(); code != "UNAUTHENTICATED" {
		t.Errorf("after the lock, any case: %q, want UNAUTHENTICATED (a new count)", code)
	}
}
