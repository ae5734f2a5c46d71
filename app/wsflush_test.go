package app

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// firings records what a wheel fired: each outbox's ticks, in the order fired.
type firings struct {
	mu    sync.Mutex
	ticks map[*outbox][]int64
	order []int64
	all   sync.WaitGroup
}

// recordingWheel returns a wheel whose fire records instead of writing, as outbox.fire
// clears the outbox's tick; expect says how many firings to wait for.
func recordingWheel(expect int) (*flushWheel, *firings) {
	f := &firings{ticks: map[*outbox][]int64{}}
	f.all.Add(expect)
	w := newFlushWheel()
	w.fire = func(o *outbox, tick int64) {
		o.mu.Lock()
		if o.wheelAt == tick {
			o.wheelAt = 0
		}
		o.mu.Unlock()
		f.mu.Lock()
		f.ticks[o] = append(f.ticks[o], tick)
		f.order = append(f.order, tick)
		f.mu.Unlock()
		f.all.Done()
	}
	return w, f
}

func schedule(w *flushWheel, o *outbox, due time.Time) {
	o.mu.Lock()
	w.schedule(o, due)
	o.mu.Unlock()
}

func (w *flushWheel) idle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.running && w.pending == 0
}

// Outboxes scheduled from many goroutines, with deadlines in any order (some past, some past
// the wheel's horizon), are each fired exactly once, never in a tick before their deadline's,
// and the ticks in order; then the wheel's goroutine ends.
func TestFlushWheelFiresEveryDueOutboxOnceInOrder(t *testing.T) {
	t.Parallel()
	const n = 2000
	w, f := recordingWheel(n)
	boxes := make([]*outbox, n)
	due := make([]time.Time, n)
	now := time.Now()
	for i := range boxes {
		boxes[i] = &outbox{}
		due[i] = now.Add(time.Duration(rand.IntN(60)-10) * time.Millisecond)
	}
	due[0] = now.Add(wheelSlots*wheelTick + 40*time.Millisecond) // past the horizon
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				schedule(w, boxes[i], due[i])
			}
		}()
	}
	wg.Wait()
	f.all.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, o := range boxes {
		ticks := f.ticks[o]
		if i == 0 {
			// past the horizon: fired in the last slot, early, as fire then finds it not due
			// and schedules it again
			if len(ticks) != 1 || ticks[0] >= tickOf(due[0]) {
				t.Errorf("the outbox past the horizon fired at %v, want once, before its tick %d", ticks, tickOf(due[0]))
			}
			continue
		}
		if len(ticks) != 1 {
			t.Fatalf("outbox %d fired at ticks %v, want once", i, ticks)
		}
		if ticks[0] < tickOf(due[i]) && due[i].After(now) {
			t.Errorf("outbox %d fired at tick %d, before its deadline's %d", i, ticks[0], tickOf(due[i]))
		}
	}
	for i := 1; i < len(f.order); i++ {
		if f.order[i] < f.order[i-1] {
			t.Fatalf("tick %d fired after tick %d", f.order[i], f.order[i-1])
		}
	}
	waitFor(t, w.idle, "the wheel's goroutine ends when nothing is scheduled")
}

// Scheduled again for a later deadline, an outbox stays at its earlier tick (fire then finds
// its frames not due and schedules them); for an earlier one it is fired then too, and its
// later entry fires as well (fire finds nothing due). An idle wheel starts again.
func TestFlushWheelReschedules(t *testing.T) {
	t.Parallel()
	w, f := recordingWheel(3)
	early, later := &outbox{}, &outbox{}
	now := time.Now()
	schedule(w, early, now.Add(10*time.Millisecond))
	schedule(w, early, now.Add(40*time.Millisecond)) // later: nothing added
	schedule(w, later, now.Add(40*time.Millisecond))
	schedule(w, later, now.Add(20*time.Millisecond)) // earlier: fired then, and at 40 ms
	f.all.Wait()
	f.mu.Lock()
	got := fmt.Sprint(len(f.ticks[early]), len(f.ticks[later]))
	f.mu.Unlock()
	if got != "1 2" {
		t.Fatalf("fired early %v, later %v times; want 1 and 2", f.ticks[early], f.ticks[later])
	}
	waitFor(t, w.idle, "the wheel ends when empty")
	f.all.Add(1)
	schedule(w, early, time.Now())
	f.all.Wait() // fired again: the idle wheel started its goroutine again
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// Many sockets whose frames wait for company that does not come: the wheel writes each
// socket's frames, in order, each exactly once.
func TestWheelWritesEverySocketsHeldFrames(t *testing.T) {
	t.Parallel()
	const sockets, frames = 20, 5
	pace := pacing{delay: 5 * time.Millisecond, hold: 15 * time.Millisecond}
	clients := make([]*websocket.Conn, sockets)
	want := make([][]string, sockets)
	for s := range sockets {
		var server *wsConn
		server, clients[s] = liveSocketPair(t)
		for i := range frames {
			payload := fmt.Sprintf(`"%d-%d"`, s, i)
			want[s] = append(want[s], payload)
			sendFrame(t, server, payload, pace, time.Now())
		}
	}
	for s, client := range clients {
		expectFrames(t, client, want[s]...)
		_ = client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, msg, err := client.ReadMessage(); err == nil {
			t.Fatalf("socket %d: a frame more: %s", s, msg)
		}
	}
}
