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
	server, client := liveSocketPair(t)
	start := time.Now()
	hour := pacing{delay: time.Hour, hold: 3 * time.Hour}
	sendFrame(t, server, "1", hour, start) // the socket never wrote: at once
	sendFrame(t, server, "2", hour, start) // within the delay of that write: waits
	if queued, writer := server.out.state(); queued != 1 || writer {
		t.Fatalf("within the delay: %d frames queued (writer running: %v), want 1 waiting for company", queued, writer)
	}
	sendFrame(t, server, "3", hour, start.Add(time.Hour)) // past the delay: takes 2 along
	if queued, writer := server.out.state(); queued != 0 || writer {
		t.Fatalf("past the delay: %d frames queued (writer running: %v), want all written by the caller", queued, writer)
	}
	expectFrames(t, client, "1", "2", "3")

	server, client = liveSocketPair(t)
	short := pacing{delay: 10 * time.Millisecond, hold: 30 * time.Millisecond}
	sendFrame(t, server, "1", short, time.Now())
	sendFrame(t, server, "2", short, time.Now()) // no frame follows: the due timer sends it
	expectFrames(t, client, "1", "2")
}

// A frame coming alone past the delay waits for the next one when the socket's frames come
// less than hold apart (a write then carries two), and goes at once when they come rarely.
func TestLoneFrameWaitsOnlyWhenFramesComeOften(t *testing.T) {
	t.Parallel()
	server, client := liveSocketPair(t)
	start := time.Now()
	pace := pacing{delay: time.Minute, hold: time.Hour}
	sendFrame(t, server, "1", pace, start)
	sendFrame(t, server, "2", pace, start.Add(2*time.Minute)) // past the delay, 2 min after 1
	if queued, writer := server.out.state(); queued != 1 || writer {
		t.Fatalf("a lone frame of a frequent socket: %d frames queued (writer running: %v), want 1 waiting for company", queued, writer)
	}
	sendFrame(t, server, "3", pace, start.Add(4*time.Minute))
	if queued, _ := server.out.state(); queued != 0 {
		t.Fatalf("the frame after it: %d frames queued, want both written", queued)
	}
	sendFrame(t, server, "4", pace, start.Add(2*time.Hour)) // more than hold after 3
	if queued, _ := server.out.state(); queued != 0 {
		t.Fatalf("a frame after a silence: %d frames queued, want it written at once", queued)
	}
	expectFrames(t, client, "1", "2", "3", "4")
}

func sendFrame(t *testing.T, c *wsConn, payload string, pace pacing, now time.Time) {
	t.Helper()
	if !c.sendLive(framePrefix("1", "graphql-transport-ws"), []byte(payload), 256, pace, now) {
		t.Fatalf("frame %s refused", payload)
	}
}

// expectFrames reads the frames of the payloads, in order.
func expectFrames(t *testing.T, client *websocket.Conn, payloads ...string) {
	t.Helper()
	var want []string
	for _, p := range payloads {
		want = append(want, string(framePrefix("1", "graphql-transport-ws"))+p+"}")
	}
	if got := readFrames(t, client, len(want)); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %v, want %v", got, want)
	}
}
