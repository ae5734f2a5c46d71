// Package apperr holds the error codes of the API contract and the error type that carries
// them from the store and the resolvers to the client.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is one of the contract's extensions.code values.
type Code string

const (
	Unauthenticated    Code = "UNAUTHENTICATED"
	Forbidden          Code = "FORBIDDEN"
	BadUserInput       Code = "BAD_USER_INPUT"
	NotFound           Code = "NOT_FOUND"
	Conflict           Code = "CONFLICT"
	AccountLocked      Code = "ACCOUNT_LOCKED"
	RateLimited        Code = "RATE_LIMITED"
	QueryTooComplex    Code = "QUERY_TOO_COMPLEX"
	ServiceUnavailable Code = "SERVICE_UNAVAILABLE"
	Internal           Code = "INTERNAL_SERVER_ERROR"
)

// Error is an error a person can act on: its message is shown to the client as is.
type Error struct {
	Code    Code
	Message string
	// Extensions are extra fields for extensions (for example lockedUntil, retryAfterSeconds).
	Extensions map[string]any
	// Status, when set, is the HTTP status of a plain HTTP answer instead of the code's own
	// (413 for a body over the limit, say).
	Status int
}

func (e *Error) Error() string { return e.Message }

// New returns an error with the code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// SignInFirst is the refusal of a caller without a valid session, said the same way by the
// auth middleware and the store's scope.
func SignInFirst() *Error {
	return New(Unauthenticated, "sign in first: send Authorization: Bearer <token> (from the login mutation)")
}

// With returns a copy of e with one more extension field.
func (e *Error) With(key string, value any) *Error {
	ext := make(map[string]any, len(e.Extensions)+1)
	for k, v := range e.Extensions {
		ext[k] = v
	}
	ext[key] = value
	return &Error{Code: e.Code, Message: e.Message, Extensions: ext, Status: e.Status}
}

// WithStatus returns a copy of e answered with the HTTP status on plain HTTP.
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.Status = status
	return &c
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of err, or Internal for anything that is not an *Error.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// HTTPStatus is the HTTP status that goes with the code when an error ends a plain HTTP
// request (before GraphQL, or on a non-GraphQL route such as the CSV exports).
func (c Code) HTTPStatus() int {
	switch c {
	case BadUserInput:
		return http.StatusBadRequest
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case AccountLocked:
		return http.StatusLocked
	case RateLimited:
		return http.StatusTooManyRequests
	case QueryTooComplex:
		return http.StatusUnprocessableEntity
	case ServiceUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
