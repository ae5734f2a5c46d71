package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// contractCodes are the codes a client's request may be answered with.
var contractCodes = apitest.ClientErrorCodes

func TestMalformedRequestsGetCodedErrors(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	cases := []struct {
		name, contentType, body string
		status                  int
	}{
		{"truncated JSON", "application/json", `{"query": `, http.StatusBadRequest},
		{"JSON array", "application/json", `[{"query": "{ me { id } }"}]`, http.StatusBadRequest},
		{"plain text", "text/plain", `{ me { id } }`, http.StatusUnsupportedMediaType},
		{"no content type", "", `{"query": "{ me { id } }"}`, http.StatusUnsupportedMediaType},
		{"invalid UTF-8", "application/json", "{\"query\": \"{ me { id } }\xff\"}", http.StatusBadRequest},
		{"unknown field", "application/json", `{"query": "{ launchMissiles }"}`, http.StatusUnprocessableEntity},
		{"unknown operation name", "application/json", `{"query": "query A { me { id } }", "operationName": "B"}`, http.StatusUnprocessableEntity},
		{"empty query", "application/json", `{"query": ""}`, http.StatusUnprocessableEntity},
	}
	for _, tc := range cases {
		resp := env.Post(t, token, tc.contentType, []byte(tc.body))
		if resp.Status != tc.status || !contractCodes[resp.Code()] {
			t.Errorf("%s: status %d code %q (%v), want %d with a contract code", tc.name, resp.Status, resp.Code(), resp.Errors, tc.status)
		}
	}
}

func TestHugeArgumentsAndListsAreRefused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	huge := strings.Repeat("X", 500_000)
	many := make([]string, 10_000)
	for i := range many {
		many[i] = fmt.Sprintf("C%07d", i)
	}
	calls := []struct {
		name, query string
		vars        map[string]any
	}{
		{"login username", `mutation($s: String!) { login(username: $s, password: $s) { token } }`, map[string]any{"s": huge}},
		{"bag qr", `query($s: String!) { bag(qr: $s) { id } }`, map[string]any{"s": huge}},
		{"bags search", `query($s: String!) { bags(filter: {search: $s}) { totalCount } }`, map[string]any{"s": huge}},
		{"scanParent", `mutation($s: String!) { scanParent(qr: $s) { id } }`, map[string]any{"s": huge}},
		{"createBill number", `mutation($s: String!) { createBill(input: {billNumber: $s, capacity: 3}) { id } }`, map[string]any{"s": huge}},
		{"createBill destination", `mutation($s: String!) { createBill(input: {billNumber: "HUGE-1", destination: $s, capacity: 3}) { id } }`, map[string]any{"s": huge}},
		{"createUser", `mutation($s: String!) { createUser(input: {username: $s, password: $s, role: BILLER}) { id } }`, map[string]any{"s": huge}},
		{"scanChildren 10k", `mutation($l: [String!]!) { scanChildren(parentQr: "SB00001", childQrs: $l) { linked { id } } }`, map[string]any{"l": many}},
		{"linkBagsToBill 10k", `mutation($l: [String!]!) { linkBagsToBill(billId: "QmlsbDox", parentQrs: $l) { linked { id } } }`, map[string]any{"l": many}},
		{"first over the cap", `{ bags(first: 10000) { totalCount } }`, nil},
	}
	for _, c := range calls {
		resp := env.Do(t, token, c.query, c.vars)
		if !contractCodes[resp.Code()] {
			t.Errorf("%s: code %q (%v), want a contract error code", c.name, resp.Code(), resp.Errors)
		}
	}
}

// TestRefusalsHoldFewErrors: a document refused with one error per part (unused variables,
// repeated directives) gets the first errors and one saying how many more, not a response
// many times its own size.
func TestRefusalsHoldFewErrors(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	vars := make([]string, 1500)
	for i := range vars {
		vars[i] = fmt.Sprintf("$v%d: Int", i)
	}
	for name, query := range map[string]string{
		"unused variables":    "query(" + strings.Join(vars, ", ") + ") { me { id } }",
		"repeated directives": "{ me { id" + strings.Repeat(" @skip(if: false)", 1000) + " } }",
	} {
		resp := env.Do(t, token, query, nil)
		if n := len(resp.Errors); n == 0 || n > 20 {
			t.Fatalf("%s: %d errors, want 1-20", name, n)
		}
		last := resp.Errors[len(resp.Errors)-1]
		if !strings.Contains(last.Message, "more errors like these") || last.Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("%s: the last error %q (%v) does not say how many more there were", name, last.Message, last.Extensions)
		}
	}
}

func TestIntrospectionCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	off := apitest.New(t, func(o *app.Options) { o.Introspection = false })
	_, token := off.NewUser(t, db.RoleAdmin, "")
	if resp := off.Do(t, token, `{ __schema { types { name } } }`, nil); !contractCodes[resp.Code()] {
		t.Errorf("introspection when disabled: code %q (%v), want a contract error code", resp.Code(), resp.Errors)
	}
	on := apitest.New(t)
	_, token = on.NewUser(t, db.RoleAdmin, "")
	on.MustDo(t, token, `{ __schema { queryType { name } } }`, nil, &struct{}{})
}

// TestBruteForceLoginsAreStopped guesses one account's password from one address: the
// lockout and the per-IP rate limit both answer with codes, and heap use stays bounded.
func TestBruteForceLoginsAreStopped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.RateLimits = app.RateLimits{IPPerSecond: 5, IPBurst: 20}
	})
	victim, _ := env.NewUser(t, db.RoleAdmin, "")
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	codes := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				resp := postLogin(env.URL, victim.Username, fmt.Sprintf("Guess#%d%d", w, i))
				mu.Lock()
				codes[resp]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for code := range codes {
		if !contractCodes[code] {
			t.Errorf("a guess got %q, want a contract error code (codes seen: %v)", code, codes)
		}
	}
	if codes["ACCOUNT_LOCKED"] == 0 || codes["RATE_LIMITED"] == 0 {
		t.Errorf("200 guesses from one address: want both ACCOUNT_LOCKED and RATE_LIMITED, got %v", codes)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 256<<20 {
		t.Errorf("heap grew by %d MiB during the brute force", grown>>20)
	}
}

// postLogin sends one login and returns its error code ("" on success); safe off the test
// goroutine.
func postLogin(endpoint, username, password string) string {
	body := fmt.Sprintf(`{"query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }", "variables": {"u": %q, "p": %q}}`, username, password)
	resp, err := http.Post(endpoint, "application/json", strings.NewReader(body))
	if err != nil {
		return "transport error: " + err.Error()
	}
	defer resp.Body.Close()
	var out apitest.Response
	if err := jsonDecode(resp, &out); err != nil {
		return "undecodable response"
	}
	return out.Code()
}

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}

// Requests with forged tokens are anonymous requests with extra steps: they cost the client
// IP's rate limit (on every route), so guessing tokens soon gets 429; a valid token keeps its
// own bucket.
func TestForgedTokensCountAgainstTheIPLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.RateLimits = app.RateLimits{IPPerSecond: 0.01, IPBurst: 6}
	})
	_, token := env.NewUser(t, db.RoleAdmin, "")
	statuses := map[int]int{}
	for i := range 12 {
		url := env.URL
		if i%2 == 1 {
			url = env.Server.URL + "/export/bills.csv"
		}
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"query": "{ me { id } }"}`))
		if i%2 == 1 {
			req, _ = http.NewRequest(http.MethodGet, url, nil)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", fmt.Sprintf("Bearer forged-%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	if statuses[http.StatusUnauthorized] != 6 || statuses[http.StatusTooManyRequests] != 6 {
		t.Errorf("12 forged tokens with an IP burst of 6: statuses %v, want 6 x 401 then 6 x 429", statuses)
	}
	if code := env.Do(t, token, `{ me { id } }`, nil).Code(); code != "" {
		t.Errorf("a valid token from the same address: %q, want its answer", code)
	}
}

// TestEveryMutationPaysTheRateLimit: the user's rate limit counts mutations, not requests, so
// aliasing many writes into one POST or sending them over a websocket (whose upgrade passes the
// HTTP limit) buys no more writes than separate requests would.
func TestEveryMutationPaysTheRateLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.RateLimits = app.RateLimits{UserPerSecond: 0.001, UserBurst: 8}
	})
	undos := func(n int) string { return aliased("mutation", "undoLastChildScan { removedQr }", n) }
	t.Run("aliases over HTTP", func(t *testing.T) {
		_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
		if r := env.Do(t, token, undos(9), nil); r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["maxMutations"] != float64(8) {
			t.Errorf("9 mutations in one operation with a burst of 8: %+v, want RATE_LIMITED with maxMutations 8", r.Errors)
		}
		if r := env.Do(t, token, undos(4), nil); r.Code() == "RATE_LIMITED" {
			t.Errorf("4 mutations with 7 tokens left: %+v, want them run", r.Errors)
		}
		r := env.Do(t, token, undos(4), nil)
		if r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfterSeconds"] == nil {
			t.Errorf("4 more mutations with 3 tokens left: %+v, want RATE_LIMITED with retryAfterSeconds", r.Errors)
		}
		if r.Data != nil && string(r.Data) != "null" {
			t.Errorf("a refused operation ran: data %s", r.Data)
		}
		if code := env.Do(t, token, `{ me { id } }`, nil).Code(); code != "" {
			t.Errorf("a query with the refused writes' tokens left: %q, want its answer", code)
		}
	})

	t.Run("over a websocket", func(t *testing.T) {
		_, token := env.NewUser(t, db.RoleDispatcher, "jaipur")
		socket := env.Connect(t, token)
		codes := map[string]int{}
		for i := range 10 {
			id := fmt.Sprint("m", i)
			socket.Subscribe(id, undos(1), nil)
			for {
				m, err := socket.Read(10 * time.Second)
				if err != nil {
					t.Fatalf("mutation %d over the socket: %v", i, err)
				}
				if m.ID != id {
					continue
				}
				if m.Type == "complete" {
					break
				}
				code := "ok"
				if strings.Contains(string(m.Payload), "RATE_LIMITED") {
					code = "RATE_LIMITED"
				}
				codes[code]++
				if m.Type == "error" { // graphql-transport-ws ends a refused operation with it
					break
				}
			}
		}
		if codes["ok"] != 8 || codes["RATE_LIMITED"] != 2 {
			t.Errorf("10 mutations over a socket with a burst of 8: %v, want 8 run and 2 RATE_LIMITED", codes)
		}
	})
}
