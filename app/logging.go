package app

import (
	"context"
	"log/slog"
)

// contextLogHandler adds the request id of the context to every log record, so every line
// logged while serving a request can be tied to it.
type contextLogHandler struct{ slog.Handler }

// NewLogHandler wraps a slog handler so that records logged with a request's context carry
// its request_id.
func NewLogHandler(inner slog.Handler) slog.Handler { return contextLogHandler{inner} }

func (h contextLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !hasRequestID(r) {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// hasRequestID: the record names its request id itself (apperr.Present does, for loggers
// that are not this handler's), so it is not added twice.
func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "request_id"
		return !found
	})
	return found
}

func (h contextLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextLogHandler) WithGroup(name string) slog.Handler {
	return contextLogHandler{h.Handler.WithGroup(name)}
}
