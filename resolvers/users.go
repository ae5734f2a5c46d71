package resolvers

import (
	"context"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/graph/model"
)

// accounts returns the login, logout and password flows over the resolver's dependencies.
func (r *Resolver) accounts() *auth.Accounts {
	return &auth.Accounts{Store: r.Store, Hasher: r.Hasher, TokenTTL: r.Config.TokenTTL, Unknown: r.UnknownUsers,
		Now: r.Config.Now}
}

// newUser turns createUser's input into the store's, hashing the password.
func (r *Resolver) newUser(ctx context.Context, in model.CreateUserInput) (db.NewUser, error) {
	areaID, err := r.Store.AreaIDOfCode(ctx, in.AreaCode)
	if err != nil {
		return db.NewUser{}, err
	}
	hash, err := r.Hasher.HashNew(ctx, in.Password)
	if err != nil {
		return db.NewUser{}, err
	}
	return db.NewUser{Username: in.Username, Email: in.Email, PasswordHash: hash, Role: in.Role,
		AreaID: areaID}, nil
}

// userChanges turns updateUser's input into the store's, hashing a new password.
func (r *Resolver) userChanges(ctx context.Context, in model.UpdateUserInput) (db.UserChanges, error) {
	areaID, err := r.Store.AreaIDOfCode(ctx, in.AreaCode)
	if err != nil {
		return db.UserChanges{}, err
	}
	ch := db.UserChanges{Email: in.Email, Role: in.Role, AreaID: areaID, Active: in.Active}
	if in.Password != nil {
		hash, err := r.Hasher.HashNew(ctx, *in.Password)
		if err != nil {
			return db.UserChanges{}, err
		}
		ch.PasswordHash = &hash
	}
	return ch, nil
}

// userConnection maps a store page to the GraphQL connection.
func userConnection(page *db.UserPage) *model.UserConnection {
	conn := &model.UserConnection{Edges: make([]*model.UserEdge, len(page.Users)), PageInfo: &model.PageInfo{HasNextPage: page.HasNext},
		TotalCount: page.TotalCount}
	for i, u := range page.Users {
		conn.Edges[i] = &model.UserEdge{Cursor: model.EncodeCursor(u.ID), Node: u}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}

// sessionToken returns the id of the token the caller signed in with (0 for none).
func sessionToken(ctx context.Context) int64 {
	if s := auth.SessionFrom(ctx); s != nil {
		return s.TokenID
	}
	return 0
}

// loginContext gives a login its own deadline, detached from the request timeout, so that
// the logins of a storm are served from the hashing queue in turn instead of being shed.
func (r *Resolver) loginContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Config.LoginTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), r.Config.LoginTimeout)
}
