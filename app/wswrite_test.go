package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// liveSocketPair returns the server's side of a websocket and the client reading it.
func liveSocketPair(t *testing.T) (*wsConn, *websocket.Conn) {
	t.Helper()
	accepted := make(chan *wsConn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := gorillaWebsocket{conns: newWebsockets()}.Accept(w, r,
			transport.WebsocketAcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Error(err)
			close(accepted)
			return
		}
		accepted <- c.(*wsConn)
	}))
	t.Cleanup(srv.Close)
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	client, _, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	server := <-accepted
	if server == nil {
		t.FailNow()
	}
	t.Cleanup(func() { _ = server.Close() })
	return server, client
}

func readFrames(t *testing.T, client *websocket.Conn, n int) []string {
	t.Helper()
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	for range n {
		_, msg, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, string(msg))
	}
	return got
}

func (o *outbox) state() (queued int, writer bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items), o.running
}

// Live frames within the socket's delay wait for company: the next frame after the delay
// takes them along in the fan-out's own write (no writer goroutine), and without a next
// frame the due timer sends them.
func TestLiveFramesWaitForCompany(t *testing.T) {
	t.Parallel()
	prefix := framePrefix("1", "graphql-transport-ws")
	frame := func(payload string) string { return string(prefix) + payload + "}" }
	send := func(c *wsConn, payload string, delay time.Duration, now time.Time) {
		t.Helper()
		if !c.sendLive(prefix, []byte(payload), 256, delay, now) {
			t.Fatalf("frame %s refused", payload)
		}
	}

	server, client := liveSocketPair(t)
	start := time.Now()
	send(server, "1", time.Hour, start) // the socket never wrote: at once
	send(server, "2", time.Hour, start) // within the delay of that write: waits
	if queued, writer := server.out.state(); queued != 1 || writer {
		t.Fatalf("within the delay: %d frames queued (writer running: %v), want 1 waiting for company", queued, writer)
	}
	send(server, "3", time.Hour, start.Add(time.Hour)) // past the delay: takes 2 along
	if queued, writer := server.out.state(); queued != 0 || writer {
		t.Fatalf("past the delay: %d frames queued (writer running: %v), want all written by the caller", queued, writer)
	}
	if got, want := readFrames(t, client, 3), []string{frame("1"), frame("2"), frame("3")}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %v, want %v", got, want)
	}

	server, client = liveSocketPair(t)
	send(server, "1", 10*time.Millisecond, time.Now())
	send(server, "2", 10*time.Millisecond, time.Now()) // no frame follows: the due timer sends it
	if got, want := readFrames(t, client, 2), []string{frame("1"), frame("2")}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %v, want %v", got, want)
	}
}
