package app

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// A socket's writes. Every message for the client is queued in the socket's outbox; the
// socket's writer goroutine takes everything queued at once, has gorilla frame it into one
// buffer (coalescingConn) and sends that buffer in one write when the queue is empty. A
// dashboard receiving a burst of events costs one system call, not one per event, and the
// goroutine that queued them never waits on the network. The writer runs only while there
// is something to write: an idle socket holds no goroutine of its own.

// outboxSoftLimit is how many queued messages make WriteJSON (gqlgen's writes) wait for the
// writer: the transport then falls behind in the subscription's own bounded buffer.
const outboxSoftLimit = 64

var errSocketClosed = errors.New("websocket closed")

// outgoing is one queued message: data whole, or a shared subscription's frame built from
// its subscriber's prefix (`{"id":"1","type":"next","payload":`), the payload every
// subscriber of the event shares, and a closing brace.
type outgoing struct {
	prefix, data []byte
	// close marks a close frame (data is its body): nothing is written after it.
	close bool
	// live marks a shared subscription's frame, counted against the live limit.
	live bool
}

var closingBrace = []byte("}")

// flushPacer decides how long live frames wait for company: what a write costs is mostly the
// system call and the TCP work behind it (~5 µs of kernel time a write on this machine, see
// bench/README.md), whatever it carries, so a busy server should send several frames a write,
// and a quiet one each frame at once. The delay grows with the frames the server delivers a
// second, from none to max (WS_FLUSH_DELAY) at fullRate and above; when events reach the
// fan-out late (the server is short of CPU), it is as long as they were late, up to lagFactor
// times max, so that the writes saved give it the CPU to catch up. What the delay means to a
// socket is pacing's.
type flushPacer struct {
	max time.Duration

	mu     sync.Mutex
	since  time.Time
	frames int
	behind time.Duration
	delay  atomic.Int64
}

const (
	// fullRate is the rate of live frames from which the delay is max: 20,000 writes a second
	// take a tenth of a core; below it writing each frame at once costs less than that.
	fullRate = 20000
	// pacerWindow is how often the rate is measured.
	pacerWindow = 100 * time.Millisecond
	// lagFactor bounds the delay of a fan-out that is behind: 10 x 50 ms.
	lagFactor = 10
	// holdFactor is how many delays a frame may wait for company (pacing.hold), at most
	// holdFactor x max: a fan-out that is behind spaces writes further apart (delay), but
	// does not make frames wait for company longer.
	holdFactor = 3
	// gapWeight is how much a socket's newest gap between frames moves its usual gap
	// (1/gapWeight): the feed hands out events in clumps, so one gap says little.
	gapWeight = 4
)

// pacing is how a socket's live frames wait for company, from the pacer's delay. A write's
// kernel cost hardly depends on its size, so a write should carry as many frames as the
// latency budget allows, and that is sized to the socket's own rate of frames (its usual
// gap between them, outbox.gap):
//   - no frame waits for company longer than hold (3 x delay): the oldest queued frame
//     goes out with the last frame that comes before its hold ends, i.e. with the frame
//     after which the next is not expected within it. A socket watching every area (an
//     event every 10 ms) writes ~14 frames a time, one watching one area (every 100 ms) two,
//     one receiving an event now and then each at once;
//   - two writes of a socket are at least delay apart (unless half its limit is queued);
//   - the fan-out makes the write in its own goroutine as it queues that last frame, so the
//     usual write wakes no goroutine; only frames whose company did not come go out with
//     the due timer (events of a stream that stopped, or came later than usual).
type pacing struct {
	delay, hold time.Duration
}

// due says when a socket's queued live frames go out, a frame having been queued now: the
// oldest was queued at oldest, the socket last wrote at flushed, and its frames come about
// gap apart. write is when the fan-out writes them as it queues one (now or before: with
// this one); deadline, when the due timer does if no frame comes (set by a burst's first
// frame). Frames that expect company wait out the oldest's hold; when writes are spaced
// further apart than that (delay past hold: a fan-out behind), the deadline gives the
// frames arriving after the spacing a delay to take them along, so that the timer does
// not race them for the write.
func (p pacing) due(oldest, flushed time.Time, gap time.Duration, now time.Time) (write, deadline time.Time) {
	spaced := flushed.Add(p.delay)
	if !now.Add(gap).Before(oldest.Add(p.hold)) { // no company expected within the hold
		write = later(now, spaced)
		return write, write
	}
	return later(oldest.Add(p.hold), spaced), later(oldest.Add(p.hold), spaced.Add(p.delay))
}

// nextGap is a socket's usual gap between frames after one that came gap after the last:
// a moving average, each gap counted up to hold (any longer gap means the same: no company
// within the hold). usual 0: none yet (or nothing waits: hold 0).
func nextGap(usual, gap, hold time.Duration) time.Duration {
	gap = min(gap, hold)
	if usual == 0 || hold <= 0 {
		return gap
	}
	return usual + (gap-usual)/gapWeight
}

// count records n frames of an event handed to sockets at now, behind after the hub
// published it.
func (p *flushPacer) count(n int, now time.Time, behind time.Duration) {
	if p.max <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frames += n
	p.behind = max(p.behind, behind)
	if p.since.IsZero() {
		p.since = now
	}
	if elapsed := now.Sub(p.since); elapsed >= pacerWindow {
		rate := float64(p.frames) / elapsed.Seconds()
		delay := time.Duration(float64(p.max) * min(1, rate/fullRate))
		if p.behind > delay {
			delay = min(p.behind, lagFactor*p.max)
		}
		p.delay.Store(int64(delay))
		p.since, p.frames, p.behind = now, 0, 0
	}
}

// current is the pacing of the frames handed out now.
func (p *flushPacer) current() pacing {
	delay := time.Duration(p.delay.Load())
	return pacing{delay: delay, hold: holdFactor * min(delay, p.max)}
}

// outbox is a socket's queue of messages.
type outbox struct {
	mu    sync.Mutex
	items []outgoing
	spare []outgoing
	// live counts the queued frames of shared subscriptions (sendLive's limit); from
	// urgentAt (half that limit) they go out without waiting for company.
	live, urgentAt int
	closed         bool
	// writing: the writer is taking and writing the queue; direct: a fan-out is writing
	// frames itself (sendLive); leftover: that write left bytes for the writer to send first.
	writing, direct, leftover bool
	// flushed is when the socket last wrote; lastLive when its latest live frame was queued,
	// oldest its oldest queued one; dueAt when the due timer writes the queued live frames
	// (pacing.due's deadline).
	flushed, lastLive, oldest, dueAt time.Time
	// gap is the usual time between its live frames (nextGap).
	gap time.Duration
	// running: a writer goroutine (start) is running; signal starts one when none is.
	running bool
	start   func()
	// raw is the connection the fan-out and the due timer write live frames to themselves.
	raw *coalescingConn
	// due starts the writer when queued live frames have waited their delay and no later
	// frame came to take them along (made on first use).
	due *time.Timer
	// drained, made by a WriteJSON that waits, is closed when the queue is taken.
	drained chan struct{}
}

// newOutbox returns an empty outbox writing to raw, whose writer is start.
func newOutbox(raw *coalescingConn, start func()) outbox {
	return outbox{raw: raw, start: start}
}

// push queues m. With wait, it first waits (until the queue is taken or done closes) while
// outboxSoftLimit messages are queued.
func (o *outbox) push(m outgoing, wait bool, done <-chan struct{}) error {
	o.mu.Lock()
	for wait && len(o.items) >= outboxSoftLimit && !o.closed {
		if o.drained == nil {
			o.drained = make(chan struct{})
		}
		drained := o.drained
		o.mu.Unlock()
		select {
		case <-drained:
		case <-done:
			return errSocketClosed
		}
		o.mu.Lock()
	}
	defer o.mu.Unlock()
	if o.closed {
		return errSocketClosed
	}
	o.items = append(o.items, m)
	o.signal()
	return nil
}

// sendLive hands the socket a shared subscription's frame, unless limit frames are queued
// already (the subscriber is then too slow and is cut: false) or the socket is closing.
// When only live frames are queued and pacing says they are due (or half the limit is
// queued), the caller (the fan-out) writes them and this one itself, in one non-blocking
// write: the usual delivery wakes no goroutine. Otherwise the frame waits for company: a
// later frame takes it along, or the due timer, armed once per write, writes them. now is
// the fan-out's clock, read once for all its sockets.
func (c *wsConn) sendLive(prefix, payload []byte, limit int, pace pacing, now time.Time) bool {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.live >= limit {
		return false
	}
	last := min(now.Sub(o.lastLive), pace.hold) // the first frame: a gap of hold
	o.gap = nextGap(o.gap, last, pace.hold)
	o.lastLive, o.urgentAt = now, limit/2
	o.items = append(o.items, outgoing{prefix: prefix, data: payload, live: true})
	o.live++
	if o.live == 1 {
		o.oldest = now
	}
	// the next frame is expected after the usual gap, or the last one when longer: a frame
	// after a silence is not held for company that stopped coming
	write, deadline := pace.due(o.oldest, o.flushed, max(last, o.gap), now)
	if o.live == 1 {
		o.dueAt = deadline
	}
	switch {
	case o.writing || o.direct || o.leftover || o.live < len(o.items):
		o.signal() // a write is under way or due: the writer looks at the queue after it
	case o.live >= o.urgentAt || !write.After(now):
		// Written here, not by the writer: on a server short of CPU a goroutine started now
		// may run only after a round of all the others, while this fan-out goes on queueing
		// (4,000 events a second fill a socket's 256 in 64 ms).
		o.writeQueued(now)
	case o.live == 1:
		o.armDue(o.dueAt.Sub(now))
	}
	return true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// writeQueued writes the queued frames (all live) in one non-blocking write from the
// caller's goroutine; what does not go out is left for the writer. o.mu is held, and let go
// during the write.
func (o *outbox) writeQueued(now time.Time) {
	items := o.takeLocked()
	o.direct = true
	if o.due != nil {
		o.due.Stop()
	}
	o.mu.Unlock()
	whole := o.raw.writeNow(items)
	o.mu.Lock()
	o.direct, o.flushed, o.leftover = false, now, !whole
	o.recycle(items)
	if len(o.items) > 0 || o.leftover || o.closed {
		o.signal()
	}
}

// armDue makes the due timer look at the queue in d; o.mu is held.
func (o *outbox) armDue(d time.Duration) {
	if o.due == nil {
		o.due = time.AfterFunc(d, o.fire)
	} else {
		o.due.Reset(d)
	}
}

// fire is the due timer's: the frames that waited for company go out, written here when
// only live frames are queued and no write is under way (no writer goroutine to start, and
// none of gorilla's path), else by the writer.
func (o *outbox) fire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	switch {
	case o.writing || o.direct || o.leftover || o.closed || o.live < len(o.items):
		if len(o.items) > 0 || o.leftover {
			o.signal()
		}
	case o.live == 0:
	case now.Before(o.dueAt): // armed for an earlier burst, since written
		o.armDue(o.dueAt.Sub(now))
	default:
		o.writeQueued(now)
	}
}

// signal starts the writer unless it is running (it looks at the queue again before it
// ends); o.mu is held.
func (o *outbox) signal() {
	if !o.running {
		o.running = true
		go o.start()
	}
}

// next is the writer's turn: write when there is something to write now and no direct
// write is under way (it is then marked writing); closed when the socket is shut and nothing
// is left (the writer closes the connection, and no other starts). Live frames not yet due
// wait for company on the due timer. Otherwise the writer ends: the direct write, the due
// timer or the next message starts another.
func (o *outbox) next() (write, closed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.direct {
		now := o.leftover || o.closed || o.live < len(o.items) || o.live >= o.urgentAt
		if wait := time.Until(o.dueAt); !now && len(o.items) > 0 && wait > 0 {
			o.armDue(wait)
		} else if o.leftover || len(o.items) > 0 {
			o.writing = true
			return true, false
		} else if o.closed {
			return false, true
		}
	}
	o.running = false
	return false, false
}

// take returns everything queued (the writer sends a direct write's leftover first).
func (o *outbox) take() []outgoing {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.leftover = false
	return o.takeLocked()
}

func (o *outbox) takeLocked() []outgoing {
	items := o.items
	o.items, o.spare = o.spare[:0], nil
	o.live = 0
	if o.drained != nil {
		close(o.drained)
		o.drained = nil
	}
	return items
}

// recycle keeps a small taken slice to queue into next time (an idle socket should not keep
// a burst's worth of memory); o.mu is held.
func (o *outbox) recycle(items []outgoing) {
	if cap(items) <= 256 {
		clear(items)
		o.spare = items[:0]
	}
}

// written ends the writer's turn.
func (o *outbox) written(items []outgoing) {
	o.mu.Lock()
	o.recycle(items)
	o.writing = false
	o.flushed = time.Now()
	o.mu.Unlock()
}

// shut stops queueing; the writer sends what is queued and closes the connection.
func (o *outbox) shut() {
	o.mu.Lock()
	o.closed = true
	o.signal()
	o.mu.Unlock()
}

// writeLoop is the socket's writer: it runs while something is to be written, and closes
// the connection once the socket is shut and its queue written.
func (c *wsConn) writeLoop() {
	for {
		write, closed := c.out.next()
		if closed {
			_ = c.conn.Close()
		}
		if !write {
			return
		}
		items := c.out.take()
		c.raw.batch()
		err := c.writeAll(items)
		if flushErr := c.raw.flush(); flushErr != nil {
			err = flushErr
		}
		c.out.written(items)
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			// A peer that does not read for writeTimeout is gone: closing the connection
			// ends the transport's read loop, which cancels every subscription of the
			// socket. (After a close frame nothing more is written, but the connection
			// stays for the peer's answer until the transport is done with it.) The
			// writer stays marked running: none starts after it.
			c.out.shut()
			_ = c.conn.Close()
			return
		}
	}
}

func (c *wsConn) writeAll(items []outgoing) error {
	deadline := time.Now().Add(writeTimeout)
	for _, m := range items {
		var err error
		switch {
		case m.close:
			err = c.conn.WriteControl(websocket.CloseMessage, m.data, deadline)
		case m.live:
			c.raw.appendTextFrame(m.prefix, m.data, closingBrace)
		default:
			err = c.conn.WriteMessage(websocket.TextMessage, m.data)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// coalescingConn is the hijacked connection under gorilla's Conn. While the socket's writer
// drains its outbox (batch to flush), what gorilla writes collects in one buffer; otherwise
// (the upgrade response, ping frames outside a batch) it goes straight through.
type coalescingConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte
	// leftover is what writeNow could not send without waiting: the next batch starts with it.
	leftover []byte
	// fd is the connection's descriptor (-1: none), which writeNow writes to itself: the
	// poller's path (RawWrite: its lock, its state's reset) cost a cache miss or two per
	// write on 10,000 sockets (~6 % of the server's CPU in the per-area profile). fdMu and
	// closed keep those writes off a descriptor Close gave back (it may be another file's
	// by then); fdMu is held only for a non-blocking write, never while one waits.
	fd     int
	fdMu   sync.Mutex
	closed bool
}

func newCoalescingConn(conn net.Conn) *coalescingConn {
	c := &coalescingConn{Conn: conn, fd: -1}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { c.fd = int(fd) })
		}
	}
	return c
}

// Close closes the connection once no writeNow is using its descriptor.
func (c *coalescingConn) Close() error {
	c.fdMu.Lock()
	c.closed = true
	c.fdMu.Unlock()
	return c.Conn.Close()
}

// tryWrite makes one non-blocking write of b to the descriptor (never waiting for the peer)
// and returns how much went out.
func (c *coalescingConn) tryWrite(b []byte) int {
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	if c.closed || c.fd < 0 {
		return 0
	}
	n, err := syscall.Write(c.fd, b)
	if err != nil {
		return 0
	}
	return n
}

var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// putBatchBuffer returns a buffer to the pool unless a burst made it large.
func putBatchBuffer(buf *[]byte) {
	if cap(*buf) <= 64<<10 {
		*buf = (*buf)[:0]
		batchBuffers.Put(buf)
	}
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.batching:
		*c.buf = append(*c.buf, p...)
	case len(c.leftover) > 0: // behind the rest of a frame, which the writer is about to send
		c.leftover = append(c.leftover, p...)
	default:
		return c.Conn.Write(p)
	}
	return len(p), nil
}

// SetWriteDeadline is gorilla's, before each frame: within a batch the frames only reach
// the buffer, and flush sets the deadline of the one write.
func (c *coalescingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *coalescingConn) batch() {
	c.mu.Lock()
	c.batching = true
	c.buf = batchBuffers.Get().(*[]byte)
	*c.buf = append(*c.buf, c.leftover...)
	c.leftover = nil
	c.mu.Unlock()
}

// writeNow sends the frames (shared subscriptions' frames) with a single non-blocking write
// and reports whether they went out whole; what did not is kept for the writer's next batch.
func (c *coalescingConn) writeNow(frames []outgoing) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := batchBuffers.Get().(*[]byte)
	defer putBatchBuffer(buf)
	for _, f := range frames {
		*buf = appendTextFrame(*buf, f.prefix, f.data, closingBrace)
	}
	sent := c.tryWrite(*buf)
	if sent < len(*buf) {
		c.leftover = append([]byte(nil), (*buf)[sent:]...)
		return false
	}
	return true
}

// appendTextFrame adds one unfragmented, unmasked text frame made of the parts to the batch
// (RFC 6455 section 5.2), without gorilla's per-message writer. It is safe beside gorilla's
// frames: within a batch the writer goroutine is the only one writing data frames, and any
// control frame another goroutine writes meanwhile is one Write, appended whole.
func (c *coalescingConn) appendTextFrame(parts ...[]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.buf = appendTextFrame(*c.buf, parts...)
}

func appendTextFrame(b []byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b = append(b, 0x81) // FIN, opcode text
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// flush sends the batch in one write (within writeTimeout) and ends it.
func (c *coalescingConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	buf := c.buf
	c.buf = nil
	defer putBatchBuffer(buf)
	if len(*buf) == 0 {
		return nil
	}
	_ = c.Conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.Conn.Write(*buf)
	return err
}

// coalescingHijacker hands gorilla's Upgrade a coalescingConn in place of the connection.
type coalescingHijacker struct {
	http.ResponseWriter
	conn *coalescingConn
}

func (h *coalescingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hijacker, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("websocket: the response cannot be hijacked")
	}
	conn, brw, err := hijacker.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = newCoalescingConn(conn)
	return h.conn, brw, nil
}
