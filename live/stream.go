package live

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"tracetrack/metrics"
)

// ErrClosed ends subscriptions when the server shuts down.
var ErrClosed = errors.New("live: the server is shutting down")

// OverflowError ends a subscription that fell further behind than its buffer holds.
type OverflowError struct {
	Buffer int
	// LastID is the last scan delivered (0: none): resume scanAdded with after = LastID.
	LastID int64
}

func (e *OverflowError) Error() string {
	return fmt.Sprintf("live: subscriber fell more than %d events behind", e.Buffer)
}

// Fail reports why a subscription ended early; it is called before the channel closes.
type Fail func(error)

// stream runs one subscription: it sends what next makes of each event to out until the
// client leaves, the hub closes, or the subscriber overflows. field names the metric.
type stream[T any] struct {
	hub   *Hub
	sub   *subscription
	out   chan T
	field string
	fail  Fail
	// relay is set when the stream feeds a subscription shared by many subscribers.
	relay *Relay
}

func newStream[T any](ctx context.Context, h *Hub, field string, sub *subscription, fail Fail) *stream[T] {
	relay := relayFrom(ctx)
	if relay == nil {
		metrics.Subscriptions.WithLabelValues(field).Inc()
	} else {
		relay.started.Store(true) // its subscribers are counted where they join
	}
	return &stream[T]{hub: h, sub: sub, out: make(chan T), field: field, fail: fail, relay: relay}
}

// end releases the subscription; deferred by every stream goroutine.
func (s *stream[T]) end() {
	s.hub.unsubscribe(s.sub)
	if s.relay == nil {
		metrics.Subscriptions.WithLabelValues(s.field).Dec()
	}
	close(s.out)
}

// Relay tells the executor of a subscription shared by many subscribers (app's multiplexer)
// what gqlgen's responses do not carry: whether the stream started, and which scan each
// response is of (each subscriber's resume point when it is cut).
type Relay struct {
	started atomic.Bool
	// scans holds the scans handed to the executor, in order: the stream pushes one before
	// it sends the scan, the executor pops one per response, so at most two wait.
	scans chan handed
	// members counts the subscribers sharing the stream (Hub.Subscribers).
	members atomic.Int64
}

// Joined counts n subscribers more (or fewer) sharing the stream.
func (r *Relay) Joined(n int) { r.members.Add(int64(n)) }

type relayKey struct{}

// WithRelay returns a context whose live stream reports to the relay.
func WithRelay(ctx context.Context) (context.Context, *Relay) {
	r := &Relay{scans: make(chan handed, 4)}
	return context.WithValue(ctx, relayKey{}, r), r
}

func relayFrom(ctx context.Context) *Relay {
	r, _ := ctx.Value(relayKey{}).(*Relay)
	return r
}

// Started reports whether a live stream started under the relay's context (false: the
// resolver refused, and its response is the error).
func (r *Relay) Started() bool { return r.started.Load() }

// handed is a scan handed to a shared stream's executor: its id, and when the hub
// published it (zero: replayed).
type handed struct {
	scanID    int64
	published time.Time
}

// Next returns the id of the scan of the response just executed (0: not a scan) and when
// the hub published it (zero: unknown).
func (r *Relay) Next() (scanID int64, published time.Time) {
	select {
	case h := <-r.scans:
		return h.scanID, h.published
	default:
		return 0, time.Time{}
	}
}

// handing tells the relay which scan the stream sends next, and when it was published.
func (s *stream[T]) handing(scanID int64, published time.Time) {
	if s.relay != nil {
		s.relay.scans <- handed{scanID, published}
	}
}

// Delivered counts n deliveries made by a shared subscription.
func Delivered(n int) { delivered.Add(float64(n)) }

// send delivers v unless the client left or the hub closed first.
func (s *stream[T]) send(ctx context.Context, v T) bool {
	select {
	case s.out <- v:
		if s.relay == nil {
			delivered.Inc()
		}
		return true
	case <-ctx.Done():
		return false
	case <-s.sub.gone:
		s.fail(ErrClosed)
		return false
	}
}

// next waits for the subscriber's next event; ok is false when the stream must end.
func (s *stream[T]) next(ctx context.Context, lastID int64) (ev *Event, ok bool) {
	select {
	case <-s.sub.overflow: // checked first: a full buffer must not hide it
		s.fail(&OverflowError{Buffer: cap(s.sub.events), LastID: lastID})
		return nil, false
	default:
	}
	select {
	case ev := <-s.sub.events:
		return ev, true
	case <-ctx.Done():
	case <-s.sub.gone:
		s.fail(ErrClosed)
	case <-s.sub.overflow:
		s.fail(&OverflowError{Buffer: cap(s.sub.events), LastID: lastID})
	}
	return nil, false
}
