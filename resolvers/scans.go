package resolvers

import (
	"context"

	"tracetrack/db"
	"tracetrack/graph/model"
	"tracetrack/internal/gid"
)

// scanFilter turns the GraphQL filter into the store's (the store applies the area scope).
func (r *Resolver) scanFilter(ctx context.Context, f *model.ScanFilter) (db.ScanFilter, error) {
	if f == nil {
		f = &model.ScanFilter{}
	}
	area, err := r.Store.AreaIDOfCode(ctx, f.AreaCode)
	if err != nil {
		return db.ScanFilter{}, err
	}
	out := db.ScanFilter{Kinds: f.Kinds, AreaID: area, After: f.After, Before: f.Before}
	if f.UserID != nil {
		id, err := gid.Decode(gid.User, *f.UserID)
		if err != nil {
			return db.ScanFilter{}, err
		}
		out.UserID = &id
	}
	return out, nil
}
