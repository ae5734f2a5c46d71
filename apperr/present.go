package apperr

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"

	"github.com/lib/pq"
)

// Public is what a client is shown of an error: a contract code, a message a person can act
// on, and extra extensions fields (retryAfterSeconds, lockedUntil...).
type Public struct {
	Code       Code
	Message    string
	Extensions map[string]any
	status     int
}

// HTTPStatus is the status of a plain HTTP answer carrying the error.
func (p Public) HTTPStatus() int {
	if p.status != 0 {
		return p.status
	}
	return p.Code.HTTPStatus()
}

// ExtensionsWithCode is the error's extensions object: its code and the extra fields.
func (p Public) ExtensionsWithCode() map[string]any {
	ext := make(map[string]any, len(p.Extensions)+1)
	for k, v := range p.Extensions {
		ext[k] = v
	}
	ext["code"] = string(p.Code)
	return ext
}

// Present is the one mapping of errors to what clients see, used by GraphQL responses,
// answers refused before GraphQL, websockets and the CSV exports:
//   - an *Error is shown as it is;
//   - the database unreachable, shutting down or overloaded is SERVICE_UNAVAILABLE (retry);
//   - anything else is a server fault: logged with the request id, and shown only as
//     INTERNAL_SERVER_ERROR quoting that id, so no internal detail leaves the server.
func Present(ctx context.Context, logger *slog.Logger, err error) Public {
	if e, ok := As(err); ok {
		return Public{Code: e.Code, Message: e.Message, Extensions: e.Extensions, status: e.Status}
	}
	if logger == nil {
		logger = slog.Default()
	}
	id := RequestID(ctx)
	if DatabaseUnavailable(err) {
		logger.WarnContext(ctx, "database unavailable", "request_id", id, "error", err)
		return Public{Code: ServiceUnavailable, Message: "the database is unavailable or overloaded; try again in a few seconds"}
	}
	logger.ErrorContext(ctx, "internal error", "request_id", id, "error", err)
	return Public{Code: Internal, Message: "internal error; quote request id " + id + " when reporting it"}
}

// DatabaseUnavailable reports errors that mean PostgreSQL cannot be reached or is shutting
// down or overloaded: the client should retry later.
func DatabaseUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		// connection exception, transaction rollback (deadlock, serialization: retrying
		// succeeds), insufficient resources, operator intervention
		case "08", "40", "53", "57":
			return true
		}
	}
	return false
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves: internal errors quote
// it to the client and log it beside the error.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request ctx serves ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
