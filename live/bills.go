package live

import (
	"context"

	"tracetrack/db"
)

// BillUpdated streams the new state of the bill with the id after each change (every bill's
// when id is nil). A deleted bill has no state and sends nothing.
func (h *Hub) BillUpdated(ctx context.Context, id *int64, fail Fail) (<-chan *db.Bill, error) {
	sub := h.subscribe(ctx, func(ev Event) bool {
		return ev.Bill != nil && (id == nil || ev.Bill.ID == *id)
	}, false)
	if sub == nil {
		return nil, ErrClosed
	}
	s := newStream[*db.Bill](ctx, h, "billUpdated", sub, fail)
	go func() {
		defer s.end()
		for {
			ev, ok := s.next(ctx, 0)
			if !ok || !s.send(ctx, ev.Bill) {
				return
			}
		}
	}()
	return s.out, nil
}
