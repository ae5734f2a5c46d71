package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
)

// AuthDirective implements @auth: every field that needs a signed-in user or a role says so
// in the schema, and this is the one place that enforces it.
func AuthDirective(ctx context.Context, _ any, next graphql.Resolver, roles []db.Role) (any, error) {
	user, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	if !auth.Allowed(user.Role, roles) {
		return nil, apperr.New(apperr.Forbidden, "your role (%s) may not use %s", user.Role, graphql.GetFieldContext(ctx).Field.Name)
	}
	return next(ctx)
}
