package resolvers

import (
	"context"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/graph/model"
	"tracetrack/loaders"
)

// scanFilter turns the GraphQL filter into the store's, applying the caller's area scope.
func (r *Resolver) scanFilter(ctx context.Context, user *db.User, f *model.ScanFilter) (db.ScanFilter, error) {
	if f == nil {
		f = &model.ScanFilter{}
	}
	area, err := r.Store.ReadableArea(ctx, user, f.AreaCode)
	if err != nil {
		return db.ScanFilter{}, err
	}
	out := db.ScanFilter{Kinds: f.Kinds, AreaID: area, After: f.After, Before: f.Before}
	if f.UserID != nil {
		id, err := decodeID(kindUser, *f.UserID)
		if err != nil {
			return db.ScanFilter{}, err
		}
		out.UserID = &id
	}
	return out, nil
}

// node finds any object by its global id, with the same visibility as its own query: bags
// and scans of the caller's area, users for admins or oneself, bills for everyone.
func (r *Resolver) node(ctx context.Context, kind string, id int64) (db.Node, error) {
	user, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	l := loaders.For(ctx)
	switch kind {
	case kindBag:
		bag, err := l.BagByID.Load(ctx, id)()
		if err != nil || bag == nil {
			return nil, err
		}
		return visibleBag(ctx, bag)
	case kindBill:
		bill, err := l.BillByID.Load(ctx, id)()
		if err != nil || bill == nil {
			return nil, err
		}
		return bill, nil
	case kindScan:
		scan, err := r.Store.ScanByID(ctx, id)
		if err != nil || scan == nil {
			return nil, err
		}
		if !user.MayAccessArea(scan.AreaID) {
			return nil, apperr.New(apperr.Forbidden, "that scan belongs to another area than yours")
		}
		return scan, nil
	case kindUser:
		if user.Role != db.RoleAdmin && user.ID != id {
			return nil, apperr.New(apperr.Forbidden, "only admins may look up other users")
		}
		u, err := l.UserByID.Load(ctx, id)()
		if err != nil || u == nil {
			return nil, err
		}
		return u, nil
	}
	return nil, apperr.New(apperr.BadUserInput, "node(id) finds bags, bills, scans and users, not %ss", kind)
}
