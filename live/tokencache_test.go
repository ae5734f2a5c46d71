package live_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// The token cache (auth.TokenCache) over HTTP: instance B verifies tokens from memory, and
// every change made through instance A (or straight in the database) reaches it within a
// second, so B refuses the old token or answers with the new rights.

const meQuery = `{ me { username role area { code } lastLoginAt } }`

// me is what `me` answers for the token on env: the user's fields, or the error code.
func me(t *testing.T, env *apitest.Env, token string) string {
	t.Helper()
	resp := env.Do(t, token, meQuery, nil)
	if code := resp.Code(); code != "" {
		return code
	}
	return string(resp.Data)
}

// warm makes env cache the token's session and checks that the next request is a hit. A
// notification still in flight (the user's or the token's creation, a change an earlier step
// made) evicts, or keeps from the cache, what a request read meanwhile, so warm tries again
// until a request is served from the cache, for at most a few seconds.
func warm(t *testing.T, env *apitest.Env, token string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		first := me(t, env, token)
		misses := env.App.TokenCache().Misses()
		again := me(t, env, token)
		if again == first && env.App.TokenCache().Misses() == misses {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second request with the token was not served from the cache (%d misses, then %d): %s, then %s",
				misses, env.App.TokenCache().Misses(), first, again)
		}
	}
}

// becomes fails the test unless `me` for the token on env answers something other than was
// within d (polling), and returns what it answers then.
func becomes(t *testing.T, env *apitest.Env, token, was string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		now := me(t, env, token)
		if now != was {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s %v after the change", now, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func field(t *testing.T, data, name string) any {
	t.Helper()
	var out struct{ Me map[string]any }
	if err := json.Unmarshal([]byte(data), &out); err != nil || out.Me == nil {
		t.Fatalf("not a me answer: %s", data)
	}
	return out.Me[name]
}

// TestRightsChangesReachEveryInstancesTokenCache: each change made through instance A makes
// instance B, which had the session cached, refuse the token or answer the new rights within
// a second; tokens the change leaves alone keep working.
func TestRightsChangesReachEveryInstancesTokenCache(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	fx := newFixture(t, a)
	refused := func(t *testing.T, now string) {
		if now != "UNAUTHENTICATED" {
			t.Errorf("got %s, want the token refused (UNAUTHENTICATED)", now)
		}
	}
	for _, tc := range []struct {
		name string
		role db.Role
		area string
		// change makes the change through A (token and other are the user's tokens) and
		// returns the token whose answer on B must change.
		change func(t *testing.T, user *db.User, token, other string) string
		check  func(t *testing.T, now string)
		// kept is a token of the user that must go on working after the change ("" none).
		kept func(token, other string) string
	}{
		{name: "role", role: db.RoleAdmin,
			change: func(t *testing.T, user *db.User, token, _ string) string {
				adminUpdates(map[string]any{"role": "BILLER"})(t, a, admin, user, "")
				return token
			},
			check: func(t *testing.T, now string) {
				if role := field(t, now, "role"); role != "BILLER" {
					t.Errorf("role %v, want BILLER", role)
				}
			}},
		{name: "area", role: db.RoleDispatcher, area: "jaipur",
			change: func(t *testing.T, user *db.User, token, _ string) string {
				adminUpdates(map[string]any{"areaCode": "lucknow"})(t, a, admin, user, "")
				return token
			},
			check: func(t *testing.T, now string) {
				if area, _ := field(t, now, "area").(map[string]any); area["code"] != "lucknow" {
					t.Errorf("area %v, want lucknow", area)
				}
			}},
		{name: "deactivation", role: db.RoleBiller, check: refused,
			change: func(t *testing.T, user *db.User, token, _ string) string {
				adminUpdates(map[string]any{"active": false})(t, a, admin, user, "")
				return token
			}},
		{name: "password set by an admin", role: db.RoleBiller, check: refused,
			change: func(t *testing.T, user *db.User, token, _ string) string {
				adminUpdates(map[string]any{"password": "Other#Pass2"})(t, a, admin, user, "")
				return token
			}},
		{name: "password changed by the user", role: db.RoleDispatcher, area: "jaipur", check: refused,
			change: func(t *testing.T, _ *db.User, token, other string) string {
				mustDo(t, a, token, `mutation { changePassword(currentPassword: "`+apitest.Password+`", newPassword: "Other#Pass2") }`, nil)
				return other
			},
			kept: func(token, _ string) string { return token }},
		{name: "logout", role: db.RoleBiller, check: refused,
			change: func(t *testing.T, _ *db.User, token, _ string) string {
				mustDo(t, a, token, `mutation { logout }`, nil)
				return token
			},
			kept: func(_, other string) string { return other }},
		{name: "token revoked in the database", role: db.RoleBiller, check: refused,
			change: func(t *testing.T, _ *db.User, token, _ string) string {
				if _, err := fx.db.Exec(`UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = $1`, auth.HashToken(token)); err != nil {
					t.Fatal(err)
				}
				return token
			},
			kept: func(_, other string) string { return other }},
		{name: "deletion", role: db.RoleBiller, check: refused,
			change: func(t *testing.T, user *db.User, token, _ string) string {
				mustDo(t, a, admin, `mutation($id: ID!) { deleteUser(id: $id) }`, map[string]any{"id": userGlobalID(user.ID)})
				return token
			}},
		{name: "login elsewhere (lastLoginAt)", role: db.RoleBiller,
			change: func(t *testing.T, user *db.User, token, _ string) string {
				mustDo(t, a, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
					map[string]any{"u": user.Username, "p": apitest.Password})
				return token
			},
			check: func(t *testing.T, now string) {
				if field(t, now, "lastLoginAt") == nil {
					t.Errorf("lastLoginAt still null after a login: %s", now)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, token := a.NewUser(t, tc.role, tc.area)
			other := a.TokenFor(t, user.ID)
			before := map[string]string{token: warm(t, b, token), other: warm(t, b, other)}
			changed := tc.change(t, user, token, other)
			tc.check(t, becomes(t, b, changed, before[changed], rightsEnd))
			if tc.kept != nil {
				kept := tc.kept(token, other)
				if now := me(t, b, kept); now != before[kept] {
					t.Errorf("the user's token the change leaves alone: %s, want %s", now, before[kept])
				}
			}
		})
	}
}

// TestExpiredTokenIsRefusedThoughCached: a token cached until the moment it expires is
// refused from then on; the cache checks the expiry on every request.
func TestExpiredTokenIsRefusedThoughCached(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, _ := env.NewUser(t, db.RoleBiller, "")
	token, hash := auth.NewToken()
	expiresAt := time.Now().Add(3 * time.Second)
	if _, err := env.Store.CreateToken(context.Background(), user.ID, hash, expiresAt); err != nil {
		t.Fatal(err)
	}
	warm(t, env, token)
	time.Sleep(time.Until(expiresAt) + 10*time.Millisecond)
	if now := me(t, env, token); now != "UNAUTHENTICATED" {
		t.Fatalf("an expired token that was cached: %s, want UNAUTHENTICATED", now)
	}
}

// TestTokenCacheIsBounded: the cache holds TOKEN_CACHE_SIZE sessions; the least recently
// used goes (and is read again when used), and every token goes on working.
func TestTokenCacheIsBounded(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.TokenCacheSize = 3 })
	user, first := env.NewUser(t, db.RoleBiller, "")
	tokens := []string{first}
	for range 4 {
		tokens = append(tokens, env.TokenFor(t, user.ID))
	}
	for _, token := range tokens {
		if now := me(t, env, token); now == "UNAUTHENTICATED" {
			t.Fatalf("a live token refused: %s", now)
		}
	}
	cache := env.App.TokenCache()
	if n := cache.Len(); n != 3 {
		t.Fatalf("%d sessions cached, want 3 (the size)", n)
	}
	misses := cache.Misses()
	me(t, env, tokens[4])
	me(t, env, tokens[0])
	if got := cache.Misses() - misses; got != 1 {
		t.Errorf("the newest token and the evicted oldest: %d lookups, want 1 (the oldest)", got)
	}
}

// TestLostSessionsListenBypassesTheTokenCache: while the sessions LISTEN connection is cut
// (no notification can arrive) or stops answering (a silent network), a change straight in
// the database still reaches the instance within its second or two, because the cache is
// flushed and bypassed; once the connection is back, the cache serves again.
func TestLostSessionsListenBypassesTheTokenCache(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"cut", "silent"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			proxy := newPGProxy(t)
			env := apitest.New(t, func(o *app.Options) { o.Live.DatabaseURL = proxy.url(t, o.Live.DatabaseURL) })
			t.Cleanup(proxy.restore) // before the instance shuts down (cleanups run last first)
			fx := newFixture(t, env)
			user, token := env.NewUser(t, db.RoleAdmin, "")
			before := warm(t, env, token)

			// a cut is noticed at once; a silent connection when its heartbeat times out
			bound := rightsEnd
			if mode == "cut" {
				proxy.cut()
			} else {
				proxy.silence()
				bound = 3 * time.Second
			}
			if _, err := fx.db.Exec(`UPDATE users SET role = 'BILLER' WHERE id = $1`, user.ID); err != nil {
				t.Fatal(err)
			}
			after := becomes(t, env, token, before, bound)
			if role := field(t, after, "role"); role != "BILLER" {
				t.Fatalf("role %v, want BILLER", role)
			}
			cache := env.App.TokenCache()
			misses := cache.Misses()
			me(t, env, token)
			if cache.Misses() != misses+1 {
				t.Errorf("while the LISTEN connection is down a request was served from the cache")
			}

			proxy.restore()
			deadline := time.Now().Add(15 * time.Second)
			for {
				misses := cache.Misses()
				now := me(t, env, token)
				if now != after {
					t.Fatalf("after the connection is back: %s, want %s", now, after)
				}
				if cache.Misses() == misses {
					break // served from the cache again
				}
				if time.Now().After(deadline) {
					t.Fatal("the cache is still bypassed 15 s after the LISTEN connection could come back")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestShutdownFinishesWhenTheDatabaseIsSilent: with the LISTEN connections' heartbeat pings
// stuck on a silent network (lib/pq's Listener.Close then waits forever on the lock a ping
// holds, as it did with a database dropped during shutdown), the instance still shuts down
// within its deadline.
func TestShutdownFinishesWhenTheDatabaseIsSilent(t *testing.T) {
	t.Parallel()
	proxy := newPGProxy(t)
	env := apitest.New(t, func(o *app.Options) { o.Live.DatabaseURL = proxy.url(t, o.Live.DatabaseURL) })
	_, token := env.NewUser(t, db.RoleAdmin, "")
	warm(t, env, token)
	proxy.silence()
	// the token cache is bypassed once a heartbeat ping has been stuck for heartbeatTimeout
	cache := env.App.TokenCache()
	deadline := time.Now().Add(20 * time.Second)
	for misses := cache.Misses(); ; misses = cache.Misses() {
		me(t, env, token)
		if cache.Misses() > misses {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the token cache still serves 20 s after the LISTEN connections went silent")
		}
		time.Sleep(50 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		_ = env.App.Shutdown(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Shutdown with a silent database has not returned after a minute (its deadline was 5 s)")
	}
	proxy.restore() // let what was left behind end
}

// pgProxy forwards TCP connections to the PostgreSQL of a database URL, and can cut them
// (close them and refuse new ones) or silence them (hold every byte, as a dead network does).
type pgProxy struct {
	listener net.Listener

	mu       sync.Mutex
	changed  *sync.Cond
	cutOff   bool
	silent   bool
	conns    []net.Conn
	upstream string
}

func newPGProxy(t *testing.T) *pgProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{listener: l}
	p.changed = sync.NewCond(&p.mu)
	t.Cleanup(func() {
		l.Close()
		p.cut()
		p.restore()
	})
	go p.serve()
	return p
}

// url returns databaseURL through the proxy.
func (p *pgProxy) url(t *testing.T, databaseURL string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.upstream = u.Host
	p.mu.Unlock()
	u.Host = p.listener.Addr().String()
	return u.String()
}

func (p *pgProxy) serve() {
	for {
		client, err := p.listener.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused, upstream := p.cutOff, p.upstream
		p.mu.Unlock()
		if refused {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", upstream)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// pipe copies from src to dst, holding what it read while the proxy is silent.
func (p *pgProxy) pipe(src, dst net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		for p.silent {
			p.changed.Wait()
		}
		p.mu.Unlock()
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				src.Close()
			}
			return
		}
	}
}

func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pgProxy) silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = true
}

func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff, p.silent = false, false
	p.changed.Broadcast()
}

// TestOwnWritesReachTheCacheAtOnce: on the instance that made the change, the very next
// request after the acknowledged write meets the new session (no waiting for the NOTIFY);
// repeated, because the notification would win the race most of the time.
func TestOwnWritesReachTheCacheAtOnce(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	for range 10 {
		user, token := env.NewUser(t, db.RoleAdmin, "")
		other := env.TokenFor(t, user.ID)
		warm(t, env, token)
		warm(t, env, other)
		mustDo(t, env, token, `mutation { logout }`, nil)
		if now := me(t, env, token); now != "UNAUTHENTICATED" {
			t.Fatalf("the request right after logout: %s, want UNAUTHENTICATED", now)
		}
		adminUpdates(map[string]any{"role": "BILLER"})(t, env, admin, user, "")
		if role := field(t, me(t, env, other), "role"); role != "BILLER" {
			t.Fatalf("the request right after a role change: role %v, want BILLER", role)
		}
	}
}
