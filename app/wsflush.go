package app

import (
	"sync"
	"time"
)

// flushWheel writes the sockets whose held live frames are due (pacing's deadline), all from
// one goroutine that walks a timing wheel. A timer per socket cost, on every write it made,
// the runtime's timer heap (10,000 timers re-armed) and a goroutine started by AfterFunc,
// scheduled, and ended: ~15 % of the server's CPU in the per-area profile (bench/README.md).
// Here a due socket costs an append to a slot, and the goroutine writes every socket of a
// slot in one loop, waking once per tick (only while something is due: it ends when the
// wheel is empty, and the next socket scheduled starts it again).
type flushWheel struct {
	mu sync.Mutex
	// slots[t % wheelSlots] holds the outboxes due in tick t (cursor <= t < cursor+wheelSlots);
	// an outbox may be in a slot after it was written (fire finds nothing due) or in two
	// slots (due earlier since): fire is safe to call any time.
	slots [wheelSlots][]*outbox
	// cursor is the next tick to walk; pending, how many entries the slots hold.
	cursor  int64
	pending int
	running bool
	// fire writes an outbox's due frames (outbox.fire; tests count the calls).
	fire func(o *outbox, tick int64)
}

const (
	// wheelTick is the wheel's resolution: a frame goes out at most this much after its
	// deadline (the feed itself hands events out every 15 ms).
	wheelTick = 5 * time.Millisecond
	// wheelSlots x wheelTick (2.56 s) is the wheel's horizon: a later deadline waits in the
	// last slot and is scheduled again from there (pacing's deadlines are < 2 s).
	wheelSlots = 512
)

func newFlushWheel() *flushWheel {
	return &flushWheel{fire: func(o *outbox, tick int64) { o.fire(tick) }}
}

// tickOf is the tick a deadline falls in, rounded up: never before the deadline.
func tickOf(t time.Time) int64 {
	n := t.UnixNano()
	return (n + int64(wheelTick) - 1) / int64(wheelTick)
}

// schedule makes the wheel fire o at due (or within a tick after it), unless o is already
// due by then; o.mu is held (the wheel never takes an outbox's lock while it holds its own).
func (w *flushWheel) schedule(o *outbox, due time.Time) {
	tick := tickOf(due)
	if o.wheelAt != 0 && o.wheelAt <= tick {
		return // fired at its earlier tick, it finds the frames not due and schedules again
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == 0 && !w.running {
		w.cursor = tickOf(time.Now()) - 1
	}
	tick = min(max(tick, w.cursor), w.cursor+wheelSlots-1)
	o.wheelAt = tick
	w.slots[tick%wheelSlots] = append(w.slots[tick%wheelSlots], o)
	w.pending++
	if !w.running {
		w.running = true
		go w.run()
	}
}

// run walks the wheel while anything is scheduled: each tick's outboxes once its time has
// come, in the order they were scheduled.
func (w *flushWheel) run() {
	w.mu.Lock()
	for w.pending > 0 {
		if wait := time.Until(time.Unix(0, w.cursor*int64(wheelTick))); wait > 0 {
			w.mu.Unlock()
			time.Sleep(wait)
			w.mu.Lock()
			continue
		}
		tick := w.cursor
		due := w.slots[tick%wheelSlots]
		w.slots[tick%wheelSlots] = nil
		w.cursor++
		w.pending -= len(due)
		w.mu.Unlock()
		for i, o := range due {
			w.fire(o, tick)
			due[i] = nil
		}
		w.mu.Lock()
		if w.slots[tick%wheelSlots] == nil && cap(due) <= 1024 {
			w.slots[tick%wheelSlots] = due[:0] // the slot's next turn appends into it
		}
	}
	w.running = false
	w.mu.Unlock()
}
