package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
)

// sessions resolves bearer tokens to the signed-in user.
type sessions struct {
	store  *db.Store
	logger *slog.Logger
}

// resolve returns ctx with the session of the token; an empty token leaves ctx anonymous and
// an unknown, expired or revoked one is UNAUTHENTICATED.
func (s sessions) resolve(ctx context.Context, token string) (context.Context, error) {
	if token == "" {
		return ctx, nil
	}
	user, tokenID, err := s.store.UserByToken(ctx, auth.HashToken(token))
	if err != nil {
		return ctx, err
	}
	if user == nil {
		return ctx, apperr.New(apperr.Unauthenticated, "the token is unknown, expired or revoked; log in again")
	}
	return auth.WithSession(ctx, &auth.Session{User: user, TokenID: tokenID}), nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>" value, or "".
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// middleware puts the caller's session and the request's origin (for the audit log) into
// the request context. A bad token is answered right away (401 with a GraphQL-shaped error)
// rather than silently treated as anonymous, and costs the client IP's rate limit as an
// anonymous request does: once that is spent, guessing tokens gets 429.
func (s sessions) middleware(limiter *rateLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithOrigin(r.Context(), auth.Origin{RequestID: RequestID(r.Context()), RemoteAddr: r.RemoteAddr})
		authed, err := s.resolve(ctx, bearerToken(r.Header.Get("Authorization")))
		if err == nil {
			next.ServeHTTP(w, r.WithContext(authed))
			return
		}
		if apperr.CodeOf(err) == apperr.Unauthenticated && !limiter.take(w, r.WithContext(ctx)) {
			return
		}
		writeGraphQLError(w, r, s.logger, err)
	})
}
