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
	mu  sync.Mutex
	err *gqlerror.Error
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
	if slot, ok := ctx.Value(endSlotKey{}).(*endSlot); ok {
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

// parkEndError records why the subscription in ctx ended; the first reason wins.
func parkEndError(ctx context.Context, err *gqlerror.Error) {
	slot, ok := ctx.Value(endSlotKey{}).(*endSlot)
	if !ok {
		return
	}
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.err == nil {
		slot.err = err
	}
}
