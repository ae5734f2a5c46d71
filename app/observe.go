package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
		handle := next(ctx)
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

// operationLabel names an operation by its type and first root field ("mutation.scanChildren"):
// bounded by the schema, unlike client-chosen operation names.
func operationLabel(opCtx *graphql.OperationContext) string {
	if opCtx == nil || opCtx.Operation == nil {
		return "unknown"
	}
	op := string(opCtx.Operation.Operation)
	for _, field := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		return op + "." + field.Name
	}
	return op
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
