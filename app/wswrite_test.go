package app

import (
	"net/http"
	"net/http/httptest"
	"os"
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

// The pacing policy: a write carries as many frames as come within the oldest one's hold,
// so its size follows the socket's rate of frames; two writes stay delay apart.
func TestPacingDue(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	busy := pacing{delay: 50 * ms, hold: 150 * ms}
	behind := pacing{delay: 300 * ms, hold: 150 * ms}
	for _, c := range []struct {
		name          string
		pace          pacing
		oldest, wrote time.Duration // before now
		gap           time.Duration
		// after now (0: at once)
		write, deadline time.Duration
	}{
		{"a quiet server writes each frame at once", pacing{}, 0, 10 * ms, 10 * ms, 0, 0},
		{"every area, mid-burst: waits out the oldest's hold", busy, 50 * ms, 60 * ms, 10 * ms, 100 * ms, 100 * ms},
		{"every area, the next frame would come after the hold: now", busy, 145 * ms, 155 * ms, 10 * ms, 0, 0},
		{"one area, the first of two: waits for the next", busy, 0, 100 * ms, 100 * ms, 150 * ms, 150 * ms},
		{"one area, the second: both now", busy, 100 * ms, 200 * ms, 100 * ms, 0, 0},
		{"frames rarer than the hold: at once", busy, 0, time.Second, 150 * ms, 0, 0},
		{"at once, but not within delay of the last write", busy, 0, 20 * ms, 150 * ms, 30 * ms, 30 * ms},
		{"behind: writes spaced by the delay, past the hold", behind, 100 * ms, 120 * ms, 10 * ms, 180 * ms, 480 * ms},
		{"behind, one area's first frame: the timer leaves the write to later frames", behind, 0, 100 * ms, 100 * ms, 200 * ms, 500 * ms},
		{"behind, one area's third frame: the three now", behind, 200 * ms, 300 * ms, 100 * ms, 0, 0},
	} {
		write, deadline := c.pace.due(now.Add(-c.oldest), now.Add(-c.wrote), c.gap, now)
		if w, d := max(write.Sub(now), 0), max(deadline.Sub(now), 0); w != c.write || d != c.deadline {
			t.Errorf("%s: write in %v, deadline in %v; want %v, %v", c.name, w, d, c.write, c.deadline)
		}
	}
}

func TestNextGap(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, c := range []struct {
		name                   string
		usual, gap, hold, want time.Duration
	}{
		{"the first gap is the usual one", 0, 100 * ms, 150 * ms, 100 * ms},
		{"the first frame: no company within the hold", 0, time.Duration(1 << 62), 150 * ms, 150 * ms},
		{"a clump's gap moves the average a quarter", 40 * ms, 0, 150 * ms, 30 * ms},
		{"a silence counts as the hold", 10 * ms, time.Hour, 150 * ms, 45 * ms},
		{"nothing waits: no average", 40 * ms, 10 * ms, 0, 0},
	} {
		if got := nextGap(c.usual, c.gap, c.hold); got != c.want {
			t.Errorf("%s: nextGap(%v, %v, %v) = %v, want %v", c.name, c.usual, c.gap, c.hold, got, c.want)
		}
	}
}

// A fan-out that is behind spaces writes further apart, not frames waiting for company longer.
func TestPacerHoldStaysWithinItsMax(t *testing.T) {
	t.Parallel()
	p := &flushPacer{max: 50 * time.Millisecond}
	for _, c := range []struct{ delay, hold time.Duration }{
		{0, 0},
		{20 * time.Millisecond, 60 * time.Millisecond},
		{500 * time.Millisecond, 150 * time.Millisecond},
	} {
		p.delay.Store(int64(c.delay))
		if got := p.current(); got != (pacing{delay: c.delay, hold: c.hold}) {
			t.Errorf("delay %v: pacing %+v, want hold %v", c.delay, got, c.hold)
		}
	}
}

// On a socket, frames whose company is expected within the hold wait; the frame after which
// none is expected takes them along in the caller's own write (no writer goroutine), and
// without a next frame the due timer writes them.
func TestLiveFramesWaitForCompany(t *testing.T) {
	t.Parallel()
	server, client := liveSocketPair(t)
	start := time.Now()
	pace := pacing{delay: time.Hour, hold: 3 * time.Hour}
	sendFrame(t, server, "1", pace, start) // the socket's first frame: at once
	expectQueued(t, server, 0, "the first frame")
	sendFrame(t, server, "2", pace, start.Add(2*time.Hour)) // the next expected within its hold
	expectQueued(t, server, 1, "a frame expecting company")
	sendFrame(t, server, "3", pace, start.Add(4*time.Hour)) // the next not expected before 2's hold ends
	expectQueued(t, server, 0, "the frame ending the hold")
	expectFrames(t, client, "1", "2", "3")

	server, client = liveSocketPair(t)
	short := pacing{delay: 10 * time.Millisecond, hold: 30 * time.Millisecond}
	sendFrame(t, server, "1", short, time.Now())
	sendFrame(t, server, "2", short, time.Now()) // no frame follows: the due timer writes it
	expectFrames(t, client, "1", "2")
}

// A frame whose hold has passed goes with the next, and a frame after a silence longer than
// the hold goes at once (the usual gap says company would come; the silence says it stopped).
func TestFrameAfterSilenceGoesAtOnce(t *testing.T) {
	t.Parallel()
	server, client := liveSocketPair(t)
	start := time.Now()
	pace := pacing{delay: time.Minute, hold: time.Hour}
	sendFrame(t, server, "1", pace, start)
	sendFrame(t, server, "2", pace, start.Add(2*time.Minute))
	expectQueued(t, server, 1, "a frame 2 min after the last")
	sendFrame(t, server, "3", pace, start.Add(70*time.Minute)) // past 2's hold
	expectQueued(t, server, 0, "a frame past the oldest's hold")
	sendFrame(t, server, "4", pace, start.Add(190*time.Minute)) // more than hold after 3
	expectQueued(t, server, 0, "a frame after a silence")
	expectFrames(t, client, "1", "2", "3", "4")
}

func expectQueued(t *testing.T, c *wsConn, want int, what string) {
	t.Helper()
	if queued, writer := c.out.state(); queued != want || writer {
		t.Fatalf("%s: %d frames queued (writer running: %v), want %d and no writer", what, queued, writer, want)
	}
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

// The fan-out writes to the socket's descriptor itself: after Close it must not, for the
// number may be another file's by then.
func TestWriteAfterCloseLeavesTheDescriptorAlone(t *testing.T) {
	server, _ := liveSocketPair(t)
	fd := server.raw.fd
	_ = server.raw.Close()
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if int(f.Fd()) != fd {
		t.Skipf("descriptor %d went to another file meanwhile (the new one is %d)", fd, f.Fd())
	}
	if server.raw.writeNow([]outgoing{{prefix: framePrefix("1", "graphql-transport-ws"), data: []byte("1"), live: true}}) {
		t.Fatal("a write after Close reports the frame sent")
	}
	if info, err := f.Stat(); err != nil || info.Size() != 0 {
		t.Fatalf("the file that took the socket's descriptor has %d bytes (%v), want 0", info.Size(), err)
	}
}
