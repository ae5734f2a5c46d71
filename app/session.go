package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"tracetrack/apperr"
	"tracetrack/auth"
)

// sessions resolves bearer tokens to the signed-in user, through the token cache.
type sessions struct {
	tokens *auth.TokenCache
	logger *slog.Logger
}

// resolve returns ctx with the session of the token; an empty token leaves ctx anonymous and
// an unknown, expired or revoked one is UNAUTHENTICATED.
func (s sessions) resolve(ctx context.Context, token string) (context.Context, error) {
	if token == "" {
		return ctx, nil
	}
	session, err := s.tokens.Verify(ctx, token)
	if err != nil {
		return ctx, err
	}
	if session == nil {
		return ctx, apperr.New(apperr.Unauthenticated, "the token is unknown, expired or revoked; log in again")
	}
	return auth.WithSession(ctx, session), nil
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
