package resolvers

import (
	"context"

	"tracetrack/apperr"
	"tracetrack/db"
)

// areaOf returns the area with the id, or nil for a nil id.
func (r *Resolver) areaOf(ctx context.Context, id *int64) (*db.Area, error) {
	if id == nil {
		return nil, nil
	}
	return r.Store.AreaByID(ctx, *id)
}

// userOf returns the user with the id, or nil for a nil id or a user since deleted.
func (r *Resolver) userOf(ctx context.Context, id *int64) (*db.User, error) {
	if id == nil {
		return nil, nil
	}
	u, err := r.Store.UserByID(ctx, *id)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	return u, err
}
