package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"tracetrack/app"
	"tracetrack/apperr"
	"tracetrack/internal/apitest"
)

// A line logged with a request's context carries its request_id once, also when the caller
// names it (apperr.Present logs it for loggers of any handler).
func TestLogLinesCarryTheRequestIDOnce(t *testing.T) {
	var logs apitest.SyncBuffer
	logger := slog.New(app.NewLogHandler(slog.NewTextHandler(&logs, nil)))
	ctx := apperr.WithRequestID(context.Background(), "req-1")
	logger.InfoContext(ctx, "plain")
	logger.ErrorContext(ctx, "named", "request_id", "req-1", "error", "boom")
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if n := strings.Count(line, "request_id=req-1"); n != 1 {
			t.Errorf("%d request ids in %q, want 1", n, line)
		}
	}
}
