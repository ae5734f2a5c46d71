package app

import (
	"net/http/httptest"
	"testing"
)

func TestOriginAllowed(t *testing.T) {
	t.Parallel()
	allowed := []string{"https://ops.example.com/"}
	for origin, want := range map[string]bool{
		"":                         true,
		"http://api.example.com":   true, // same host as the request
		"https://ops.example.com":  true,
		"https://OPS.example.com":  true,
		"https://evil.example.com": false,
		"http://ops.example.com":   false, // another scheme is another origin
		"::bad":                    false,
	} {
		r := httptest.NewRequest("GET", "http://api.example.com/graphql", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := originAllowed(r, allowed); got != want {
			t.Errorf("origin %q: allowed = %v, want %v", origin, got, want)
		}
	}
	r := httptest.NewRequest("GET", "http://api.example.com/graphql", nil)
	r.Header.Set("Origin", "https://anything.example")
	if !originAllowed(r, []string{"*"}) {
		t.Error(`"*" must allow any origin`)
	}
}
