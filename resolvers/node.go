package resolvers

import (
	"context"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/internal/gid"
	"tracetrack/loaders"
)

// node finds any object by its global id, with the same visibility as its own query: the
// store's scope decides (bags and scans of another area are FORBIDDEN, naming nothing),
// users are for admins or oneself, bills for everyone, return tickets for admins and billers.
func (r *Resolver) node(ctx context.Context, kind string, id int64) (db.Node, error) {
	actor := auth.ActorFrom(ctx)
	l := loaders.For(ctx)
	switch kind {
	case gid.Bag:
		return nodeOrNil(r.Store.BagByID(ctx, actor, id))
	case gid.Bill:
		return nodeOrNil(l.BillByID().Load(ctx, id)())
	case gid.Scan:
		return nodeOrNil(r.Store.ScanByID(ctx, actor, id))
	case gid.ReturnTicket:
		return nodeOrNil(r.Store.ReturnTicketByID(ctx, actor, id))
	case gid.User:
		if !actor.MaySeePrivate(id) {
			return nil, apperr.New(apperr.Forbidden, "only admins may look up other users")
		}
		return nodeOrNil(l.UserByID().Load(ctx, id)())
	}
	return nil, apperr.New(apperr.BadUserInput, "node(id) finds bags, bills, scans, users and return tickets, not %ss", kind)
}

// nodeOrNil keeps a missing record a nil interface (a typed nil pointer would not be).
func nodeOrNil[T any, P interface {
	*T
	db.Node
}](record P, err error) (db.Node, error) {
	if err != nil || record == nil {
		return nil, err
	}
	return record, nil
}
