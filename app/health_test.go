package app_test

import (
	"net/http"
	"testing"

	"tracetrack/internal/apitest"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	status := func(path string) int {
		resp, err := http.Get(env.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz: %d", got)
	}
	if got := status("/readyz"); got != http.StatusOK {
		t.Errorf("/readyz with the database up: %d", got)
	}
	env.Store.Close()
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database gone: %d, want 503", got)
	}
	if got := status("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz with the database gone: %d, want 200 (the process lives)", got)
	}
}
