package app_test

import (
	"net/http"
	"strings"
	"testing"

	"tracetrack/app"
	"tracetrack/internal/apitest"
)

const allowedOrigin = "http://ops.example.com:3000"

func corsEnv(t *testing.T) *apitest.Env {
	return apitest.New(t, func(o *app.Options) { o.Websocket.AllowedOrigins = []string{allowedOrigin} })
}

func preflight(t *testing.T, env *apitest.Env, path, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, env.Server.URL+path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	env := corsEnv(t)
	for _, path := range []string{"/graphql", "/export/bills.csv"} {
		resp := preflight(t, env, path, allowedOrigin)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != allowedOrigin {
			t.Errorf("%s preflight from %s: %d, Allow-Origin %q", path, allowedOrigin, resp.StatusCode, h.Get("Access-Control-Allow-Origin"))
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("%s preflight: Allow-Headers %q, Allow-Methods %q", path, h.Get("Access-Control-Allow-Headers"), h.Get("Access-Control-Allow-Methods"))
		}
		for _, foreign := range []string{"http://evil.example", "http://ops.example.com:3001", "https://ops.example.com:3000", "null"} {
			resp := preflight(t, env, path, foreign)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s preflight from %s: %d, Allow-Origin %q; want 403 and no CORS headers",
					path, foreign, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	}
}

func TestCORSRequests(t *testing.T) {
	t.Parallel()
	env := corsEnv(t)
	_, token := env.NewUser(t, "BILLER", "")
	post := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, env.URL, strings.NewReader(`{"query":"{ me { username } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(allowedOrigin); resp.Header.Get("Access-Control-Allow-Origin") != allowedOrigin || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("POST from %s: Allow-Origin %q, Vary %q", allowedOrigin, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Vary"))
	}
	// a foreign page's browser gets no CORS header, so it cannot read the answer
	if resp := post("http://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("POST from a foreign origin: Allow-Origin %q, want none", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// clients that are not browsers send no Origin and are served as before
	if resp := post(""); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("POST without Origin: %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
