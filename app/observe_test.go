package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestMetricsCarryOperationAndOutcome(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleDispatcher, "hisar")
	env.MustDo(t, token, `{ areas { code } }`, nil, &struct{}{})
	env.Do(t, "", `{ areas { code } }`, nil)

	resp, err := http.Get(env.Server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`tracetrack_graphql_requests_total{code="OK",operation="query.areas"}`,
		`tracetrack_graphql_requests_total{code="UNAUTHENTICATED",operation="query.areas"}`,
		`tracetrack_graphql_duration_seconds_bucket{operation="query.areas",le="0.005"}`,
		`tracetrack_http_responses_total{code="200",route="/graphql"}`,
		`go_sql_open_connections{db_name="tracetrack"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) {
		o.RateLimits = app.RateLimits{UserPerSecond: 0.1, UserBurst: 2, IPPerSecond: 0.1, IPBurst: 1}
	})
	_, token := env.NewUser(t, db.RoleBiller, "")
	_, other := env.NewUser(t, db.RoleBiller, "")
	for i := range 2 {
		if code := env.Do(t, token, `{ me { id } }`, nil).Code(); code != "" {
			t.Fatalf("request %d within the burst: %s", i, code)
		}
	}
	limited := env.Do(t, token, `{ me { id } }`, nil)
	if limited.Code() != "RATE_LIMITED" || limited.Status != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d code %q, want 429 RATE_LIMITED", limited.Status, limited.Code())
	}
	if s, ok := limited.Errors[0].Extensions["retryAfterSeconds"].(float64); !ok || s < 1 {
		t.Errorf("retryAfterSeconds = %v", limited.Errors[0].Extensions["retryAfterSeconds"])
	}
	if code := env.Do(t, other, `{ me { id } }`, nil).Code(); code != "" {
		t.Errorf("another user is not limited by the first one's bucket: %s", code)
	}
	env.Do(t, "", `{ areas { code } }`, nil)
	if code := env.Do(t, "", `{ areas { code } }`, nil).Code(); code != "RATE_LIMITED" {
		t.Errorf("anonymous requests are limited per IP: got %q", code)
	}
}

// TestRefusedRequestsAreLoggedAndCounted: a request refused before any operation runs (not
// GraphQL, invalid, over the budget, a malformed body) gets a log line with its request id,
// the user, the outcome and the message the client got, and counts under the operation
// "refused"; observe never sees them.
func TestRefusedRequestsAreLoggedAndCounted(t *testing.T) {
	t.Parallel()
	var logs apitest.SyncBuffer
	env := apitest.New(t, func(o *app.Options) {
		o.Logger = slog.New(app.NewLogHandler(slog.NewTextHandler(&logs, nil)))
		o.Limits = app.DefaultLimits()
		o.Limits.MaxDepth = 3
	})
	user, token := env.NewUser(t, db.RoleBiller, "")
	for id, body := range map[string]string{
		"refused-parse":      `{"query": "{ me { id "}`,
		"refused-validation": `{"query": "{ launchMissiles }"}`,
		"refused-budget":     `{"query": "{ bags { edges { node { children { edges { node { id } } } } } } }"}`,
		"refused-body":       `[{"query": "{ me { id } }"}]`,
	} {
		req, _ := http.NewRequest(http.MethodPost, env.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Request-ID", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	lines := strings.Split(logs.String(), "\n")
	for id, outcome := range map[string]string{"refused-parse": "BAD_USER_INPUT", "refused-validation": "BAD_USER_INPUT",
		"refused-budget": "QUERY_TOO_COMPLEX", "refused-body": "BAD_USER_INPUT"} {
		found := false
		for _, line := range lines {
			if strings.Contains(line, "request_id="+id) {
				found = true
				for _, want := range []string{"operation=refused", "outcome=" + outcome, "message=", "user_id=" + strconv.FormatInt(user.ID, 10)} {
					if !strings.Contains(line, want) {
						t.Errorf("request %s: the log line %q lacks %s", id, line, want)
					}
				}
			}
		}
		if !found {
			t.Errorf("request %s: no log line with its request id in:\n%s", id, logs.String())
		}
	}
	_, body := env.Get(t, "", "/metrics")
	for _, want := range []string{`tracetrack_graphql_requests_total{code="BAD_USER_INPUT",operation="refused"}`,
		`tracetrack_graphql_requests_total{code="QUERY_TOO_COMPLEX",operation="refused"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
