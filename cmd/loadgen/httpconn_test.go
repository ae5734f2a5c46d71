package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClientOverNetHTTPServer: the generator's own HTTP/1.1 client against net/http's server,
// as TraceTrack's is: small bodies (Content-Length), large ones (chunked, with the trailer
// read so the next request finds the connection clean), error statuses, the request as
// net/http's client sends it, and a connection the server closed while idle.
func TestClientOverNetHTTPServer(t *testing.T) {
	t.Parallel()
	large := `{"data":{"x":"` + strings.Repeat("a", 10000) + `"}}`
	var headers []http.Header
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		headers = append(headers, r.Header.Clone())
		switch string(body) {
		case "small":
			_, _ = io.WriteString(w, `{"data":{"x":1}}`)
		case "large":
			_, _ = io.WriteString(w, large)
		case "close":
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, `{"data":null}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"errors":[{"message":"no"}]}`)
		}
	}))
	defer server.Close()
	ep, err := parseEndpoint(server.URL + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(newHTTPClient(5*time.Second), ep)
	c.token = "tok"
	defer c.close()
	var out bytes.Buffer
	for i, step := range []struct {
		body, want string
		status     int
		kept       bool
	}{
		{"small", `{"data":{"x":1}}`, 200, true},
		{"large", large, 200, true},
		{"small", `{"data":{"x":1}}`, 200, true},
		{"bad", `{"errors":[{"message":"no"}]}`, 400, true},
		{"close", `{"data":null}`, 200, false},
		{"large", large, 200, true},
	} {
		status, err := c.post(context.Background(), []byte(step.body), &out)
		if err != nil || status != step.status || out.String() != step.want || (c.conn != nil) != step.kept {
			t.Fatalf("step %d (%s): status %d, err %v, kept %v, body %.60q", i, step.body, status, err, c.conn != nil, out.String())
		}
	}
	h := headers[0]
	if h.Get("Authorization") != "Bearer tok" || h.Get("Content-Type") != "application/json" ||
		h.Get("User-Agent") != "Go-http-client/1.1" || h.Get("Accept-Encoding") != "gzip" {
		t.Errorf("request headers: %v", h)
	}
	// the server drops its idle connections; the next request goes out again on a new one
	server.CloseClientConnections()
	if status, err := c.post(context.Background(), []byte("small"), &out); err != nil || status != 200 {
		t.Fatalf("after the server closed the idle connection: %d %v", status, err)
	}
	// a request cut by its context reports the context's error
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.post(ctx, []byte("small"), &out); codeOf(transportError(err)) != "CANCELED" {
		t.Errorf("cancelled request: %v", err)
	}
}

func TestPlainData(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"data":{"stats":{"users":3}}}`:              true,
		`{"data":{"stats":{"users":3}}}` + "\n":       true,
		`{"data":{"u":"say \"errors\": here"}}`:       true,
		`{"errors":[{"message":"x"}],"data":null}`:    false,
		`{"data":null,"errors":[{"message":"x"}]}`:    false,
		`{"data":{"a":1},"errors":[{"message":"x"}]}`: false,
		`<html>`: false,
		`{"data":{"a":1},"extensions":{"sqlStatements":1},"x":true}`: true,
	} {
		if got := plainData([]byte(body)); got != want {
			t.Errorf("plainData(%s) = %v, want %v", body, got, want)
		}
	}
}
