package app

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
)

// presentError is the single error presenter: every error leaves with a contract code and a
// message a person can act on; anything unexpected is logged with the request id and shown
// only as INTERNAL_SERVER_ERROR.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if e, ok := apperr.As(err); ok {
			gqlErr.Message = e.Message
			gqlErr.Extensions = map[string]any{"code": string(e.Code)}
			for k, v := range e.Extensions {
				gqlErr.Extensions[k] = v
			}
			return gqlErr
		}
		if isDatabaseUnavailable(err) {
			logger.WarnContext(ctx, "database unavailable", "request_id", RequestID(ctx), "error", err)
			return withCode(gqlErr, apperr.ServiceUnavailable, "the database is unavailable; try again in a few seconds")
		}
		var parseErr *gqlerror.Error
		if errors.As(err, &parseErr) && parseErr.Extensions != nil {
			switch parseErr.Extensions["code"] {
			case errcode.ValidationFailed, errcode.ParseFailed:
				return withCode(gqlErr, apperr.BadUserInput, gqlErr.Message)
			}
		}
		logger.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "error", err)
		return withCode(gqlErr, apperr.Internal, "internal error; quote request id "+RequestID(ctx)+" when reporting it")
	}
}

func withCode(gqlErr *gqlerror.Error, code apperr.Code, message string) *gqlerror.Error {
	gqlErr.Message = message
	gqlErr.Extensions = map[string]any{"code": string(code)}
	return gqlErr
}

// isDatabaseUnavailable reports errors that mean PostgreSQL cannot be reached or is shutting
// down or overloaded: the client should retry later.
func isDatabaseUnavailable(err error) bool {
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
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return true
		}
	}
	return false
}

// recoverPanic turns a resolver panic into an error the presenter shows as internal.
func recoverPanic(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic", p)
		return errors.New("panic in resolver")
	}
}
