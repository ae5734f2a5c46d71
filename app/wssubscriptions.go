package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
)

// subscriptionCap refuses a socket's subscription beyond WebsocketOptions.MaxSubscriptions,
// so one socket cannot make the hub fan every event out to thousands of its subscriptions.
// The refused subscription gets RATE_LIMITED; the socket and its other subscriptions go on.
type subscriptionCap struct {
	max     int
	present graphql.ErrorPresenterFunc
}

var (
	_ graphql.HandlerExtension     = subscriptionCap{}
	_ graphql.OperationInterceptor = subscriptionCap{}
)

func (subscriptionCap) ExtensionName() string                          { return "SubscriptionCap" }
func (subscriptionCap) Validate(schema graphql.ExecutableSchema) error { return nil }

func (s subscriptionCap) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx).Operation
	slot := slotFrom(ctx)
	if op == nil || op.Operation != ast.Subscription || slot == nil || slot.conn == nil {
		return next(ctx)
	}
	if !slot.conn.startSubscription(s.max) {
		err := apperr.New(apperr.RateLimited,
			"this connection already runs %d subscriptions, the most allowed (WS_MAX_SUBSCRIPTIONS); complete one before starting another",
			s.max).With("maxSubscriptions", s.max)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{s.present(ctx, err)}})
	}
	// gqlgen cancels an operation's context when it ends, however it ends.
	context.AfterFunc(ctx, slot.conn.endSubscription)
	return next(ctx)
}

// startSubscription counts a new subscription of the socket unless it runs max already.
func (c *wsConn) startSubscription(max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subscriptions >= max {
		return false
	}
	c.subscriptions++
	return true
}

func (c *wsConn) endSubscription() {
	c.mu.Lock()
	c.subscriptions--
	c.mu.Unlock()
}
