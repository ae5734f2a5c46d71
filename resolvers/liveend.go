package resolvers

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// LiveEndErrors hands the error a live stream ended with from the stream's goroutine to
// gqlgen's subscription goroutine. transport.AddSubscriptionError appends to a slice that
// goroutine reads without a lock once the stream ends, so only that goroutine may call it:
// the stream parks its error here, and the response interceptor, running there after the
// closed channel ended the stream, adds it.
type LiveEndErrors struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = LiveEndErrors{}

type endSlotKey struct{}

type endSlot struct {
	mu    sync.Mutex
	err   *gqlerror.Error
	cause error
	// shared: the slot is a shared subscription's (ShareEnd), whose executor hands the
	// reason to each of its subscribers itself.
	shared bool
}

func (LiveEndErrors) ExtensionName() string                   { return "LiveEndErrors" }
func (LiveEndErrors) Validate(graphql.ExecutableSchema) error { return nil }

func (LiveEndErrors) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if graphql.GetOperationContext(ctx).Operation.Operation == ast.Subscription {
		ctx = context.WithValue(ctx, endSlotKey{}, &endSlot{})
	}
	return next(ctx)
}

func (LiveEndErrors) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		return resp
	}
	if slot, ok := ctx.Value(endSlotKey{}).(*endSlot); ok && !slot.shared {
		slot.mu.Lock()
		err := slot.err
		slot.err = nil
		slot.mu.Unlock()
		if err != nil {
			transport.AddSubscriptionError(ctx, err)
		}
	}
	return nil
}

// parkEndError records why the subscription in ctx ended (the cause and the error it is
// presented as); the first reason wins.
func parkEndError(ctx context.Context, cause error, err *gqlerror.Error) {
	slot, ok := ctx.Value(endSlotKey{}).(*endSlot)
	if !ok {
		return
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.err == nil {
		slot.err, slot.cause = err, cause
	}
}

// ShareEnd gives a subscription executed once for many subscribers its own end slot: the
// reason its stream ends is not added to any one subscriber's errors, but kept for EndCause.
func ShareEnd(ctx context.Context) context.Context {
	return context.WithValue(ctx, endSlotKey{}, &endSlot{shared: true})
}

// EndCause returns why the shared subscription in ctx (ShareEnd) ended; nil: it was not cut.
func EndCause(ctx context.Context) error {
	slot, ok := ctx.Value(endSlotKey{}).(*endSlot)
	if !ok {
		return nil
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	return slot.cause
}
