package live

import (
	"context"
	"errors"
	"fmt"

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
}

func newStream[T any](h *Hub, field string, sub *subscription, fail Fail) *stream[T] {
	metrics.Subscriptions.WithLabelValues(field).Inc()
	return &stream[T]{hub: h, sub: sub, out: make(chan T), field: field, fail: fail}
}

// end releases the subscription; deferred by every stream goroutine.
func (s *stream[T]) end() {
	s.hub.unsubscribe(s.sub)
	metrics.Subscriptions.WithLabelValues(s.field).Dec()
	close(s.out)
}

// send delivers v unless the client left or the hub closed first.
func (s *stream[T]) send(ctx context.Context, v T) bool {
	select {
	case s.out <- v:
		delivered.Inc()
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
		s.fail(&OverflowError{Buffer: s.hub.opts.Buffer, LastID: lastID})
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
		s.fail(&OverflowError{Buffer: s.hub.opts.Buffer, LastID: lastID})
	}
	return nil, false
}
