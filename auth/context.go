package auth

import (
	"context"

	"tracetrack/apperr"
	"tracetrack/db"
)

// Session is the signed-in caller of a request: the user and the token they used.
type Session struct {
	User    *db.User
	TokenID int64
}

type sessionKey struct{}

// WithSession returns ctx carrying the session.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session of ctx, or nil for an anonymous caller.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// UserFrom returns the signed-in user, or nil.
func UserFrom(ctx context.Context) *db.User {
	if s := SessionFrom(ctx); s != nil {
		return s.User
	}
	return nil
}

// Require returns the signed-in user, or UNAUTHENTICATED.
func Require(ctx context.Context) (*db.User, error) {
	if u := UserFrom(ctx); u != nil {
		return u, nil
	}
	return nil, apperr.SignInFirst()
}

// Allowed reports whether role may use something open to roles; ADMIN may use everything
// and an empty list means any signed-in user.
func Allowed(role db.Role, roles []db.Role) bool {
	if role == db.RoleAdmin || len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

// Origin is where a request comes from, for the audit log.
type Origin struct {
	RequestID  string
	RemoteAddr string
}

type originKey struct{}

// WithOrigin returns ctx carrying the request's origin.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// ActorFrom returns who acts in ctx: the signed-in user with their role and area (the scope
// every store method applies; an anonymous caller sees no area) and the request's origin
// (for the audit log). It reads the session each time, so a session swapped on a live
// websocket takes effect on the next event.
func ActorFrom(ctx context.Context) db.Actor {
	o, _ := ctx.Value(originKey{}).(Origin)
	actor := db.ActorOf(UserFrom(ctx))
	actor.RequestID, actor.RemoteAddr = o.RequestID, o.RemoteAddr
	return actor
}
