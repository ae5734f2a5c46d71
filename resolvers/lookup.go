package resolvers

import (
	"context"

	"tracetrack/db"
	"tracetrack/loaders"
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
	return loaders.For(ctx).UserByID().Load(ctx, *id)()
}
