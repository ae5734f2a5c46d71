package app

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"tracetrack/auth"
	"tracetrack/metrics"
)

// observe records every GraphQL operation: a metric by operation and outcome, a latency
// histogram, and a log line (debug for success, info for errors) carrying the request id,
// the operation, the user, the duration and the outcome.
func observe(logger *slog.Logger) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		start := time.Now()
		opCtx := graphql.GetOperationContext(ctx)
		name := operationLabel(opCtx)
		handle := next(context.WithValue(ctx, observedKey{}, true))
		return func(ctx context.Context) *graphql.Response {
			resp := handle(ctx)
			if resp == nil || opCtx.Operation == nil || opCtx.Operation.Operation == "subscription" {
				return resp
			}
			elapsed := time.Since(start)
			code := outcome(resp)
			metrics.Requests.WithLabelValues(name, code).Inc()
			metrics.Duration.WithLabelValues(name).Observe(elapsed.Seconds())
			level := slog.LevelDebug
			if code != "OK" {
				level = slog.LevelInfo
			}
			if !logger.Enabled(ctx, level) {
				return resp
			}
			var userID int64
			if u := auth.UserFrom(ctx); u != nil {
				userID = u.ID
			}
			logger.Log(ctx, level, "graphql", "operation", name, "operation_name", opCtx.OperationName,
				"user_id", userID, "duration_ms", float64(elapsed.Microseconds())/1000, "outcome", code)
			return resp
		}
	}
}

// observedKey marks the context of an operation observe records: a response without it is of
// a request gqlgen refused before any operation ran (parse, validation, variables, the query
// budget), which observeRefused records.
type observedKey struct{}

// refusedLabel is the operation label of requests refused before an operation ran.
const refusedLabel = "refused"

// observeRefused records the requests gqlgen refuses before an operation runs, which observe
// never sees: the metric under the operation "refused" and an info line with the outcome and
// the message the client got, so an operator can find what a client sent from its request id.
func observeRefused(logger *slog.Logger) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil || len(resp.Errors) == 0 || ctx.Value(observedKey{}) != nil {
			return resp
		}
		code := outcome(resp)
		metrics.Requests.WithLabelValues(refusedLabel, code).Inc()
		logRefusal(ctx, logger, code, resp.Errors[0].Message)
		return resp
	}
}

// logRefusal is the log line of a request refused before an operation ran, over GraphQL or
// before it (writeGraphQLError).
func logRefusal(ctx context.Context, logger *slog.Logger, code, message string) {
	if !logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var userID int64
	if u := auth.UserFrom(ctx); u != nil {
		userID = u.ID
	}
	if len(message) > maxLoggedMessage {
		message = message[:maxLoggedMessage] + "..."
	}
	logger.InfoContext(ctx, "graphql", "operation", refusedLabel, "user_id", userID, "outcome", code, "message", message)
}

// maxLoggedMessage bounds the message of a refusal in the log (it may quote the client).
const maxLoggedMessage = 300

// operationLabel names an operation by its type and first root field ("mutation.scanChildren"):
// bounded by the schema, unlike client-chosen operation names.
func operationLabel(opCtx *graphql.OperationContext) string {
	if opCtx == nil || opCtx.Operation == nil {
		return "unknown"
	}
	op, set := opCtx.Operation.Operation, opCtx.Operation.SelectionSet
	if len(set) > 0 {
		if field, ok := set[0].(*ast.Field); ok && len(field.Directives) == 0 {
			return labels.of(op, field.Name) // the common case, without collecting fields
		}
	}
	for _, field := range graphql.CollectFields(opCtx, set, nil) {
		return labels.of(op, field.Name)
	}
	return string(op)
}

// labels holds each operation label once: the label set is bounded by the schema's root
// fields, and a request then builds no string for its label.
var labels = operationLabels{names: map[operationRoot]string{}}

type operationRoot struct {
	op    ast.Operation
	field string
}

type operationLabels struct {
	mu    sync.RWMutex
	names map[operationRoot]string
}

func (l *operationLabels) of(op ast.Operation, field string) string {
	root := operationRoot{op, field}
	l.mu.RLock()
	name, ok := l.names[root]
	l.mu.RUnlock()
	if ok {
		return name
	}
	name = string(op) + "." + field
	l.mu.Lock()
	l.names[root] = name
	l.mu.Unlock()
	return name
}

func outcome(resp *graphql.Response) string {
	if len(resp.Errors) == 0 {
		return "OK"
	}
	if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
		return code
	}
	return "INTERNAL_SERVER_ERROR"
}

// countResponses counts HTTP responses of a route by status code.
func countResponses(route string, next http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(metrics.HTTPResponses.MustCurryWith(prometheus.Labels{"route": route}), next)
}
