package app

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"strings"

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
		if gqlErr.Message == introspectionDisabled {
			return withCode(gqlErr, apperr.Forbidden, "introspection is turned off on this server (INTROSPECTION=false)")
		}
		if isDatabaseUnavailable(err) {
			logger.WarnContext(ctx, "database unavailable", "request_id", RequestID(ctx), "error", err)
			return withCode(gqlErr, apperr.ServiceUnavailable, "the database is unavailable or overloaded; try again in a few seconds")
		}
		var parseErr *gqlerror.Error
		if errors.As(err, &parseErr) && parseErr.Extensions != nil {
			if code, ok := requestErrorCode(parseErr); ok {
				return withCode(gqlErr, code, gqlErr.Message)
			}
		}
		logger.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "error", err)
		return withCode(gqlErr, apperr.Internal, "internal error; quote request id "+RequestID(ctx)+" when reporting it")
	}
}

// introspectionDisabled is the error gqlgen's generated code returns for __schema and
// __type when the Introspection extension is not in use.
const introspectionDisabled = "introspection disabled"

// requestErrorCode maps gqlgen's own request errors (parse, validation, limits, persisted
// queries) to the contract's codes.
func requestErrorCode(err *gqlerror.Error) (apperr.Code, bool) {
	switch err.Extensions["code"] {
	case errcode.ParseFailed:
		if strings.HasPrefix(err.Message, "exceeded token limit") || strings.HasPrefix(err.Message, "exceeded maximum nesting depth") {
			return apperr.QueryTooComplex, true
		}
		return apperr.BadUserInput, true
	case errcode.ValidationFailed:
		return apperr.BadUserInput, true
	case "COMPLEXITY_LIMIT_EXCEEDED", string(apperr.QueryTooComplex):
		return apperr.QueryTooComplex, true
	case "PERSISTED_QUERY_NOT_FOUND":
		// Apollo-style clients look for the message PersistedQueryNotFound and resend the text.
		return apperr.NotFound, true
	}
	return "", false
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
		// connection exception, transaction rollback (deadlock, serialization: retrying
		// succeeds), insufficient resources, operator intervention
		case "08", "40", "53", "57":
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
