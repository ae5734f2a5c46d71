package db

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
)

// NewUser is what CreateUser needs; PasswordHash is already hashed.
type NewUser struct {
	Username     string
	Email        *string
	PasswordHash string
	Role         Role
	AreaID       *int64
}

// CreateUser inserts a user and logs it as the actor's doing. A taken username (any case) is
// CONFLICT; a full area is CONFLICT; a dispatcher without an area (or another role with one)
// is BAD_USER_INPUT.
func (s *Store) CreateUser(ctx context.Context, a Actor, u NewUser) (*User, error) {
	if err := checkRoleArea(u.Role, u.AreaID); err != nil {
		return nil, err
	}
	email, err := normalizeEmail(u.Email)
	if err != nil {
		return nil, err
	}
	var created User
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &created, `
			INSERT INTO users (username, email, password_hash, role, area_id)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING `+userColumns,
			u.Username, email, u.PasswordHash, u.Role, u.AreaID)
		if err != nil {
			return userWriteError(err, u.Username)
		}
		return audit(ctx, tx, auditEntry{Actor: a, Action: AuditUserCreated, TargetID: &created.ID, After: auditOf(&created)})
	})
	if err != nil {
		return nil, err
	}
	return created.VisibleTo(a), nil
}

// CreateFirstAdmin creates the user admin when the users table is empty, and reports whether
// it did. Servers starting together on an empty database may all call it: the statement
// inserts at most one admin (the username is unique) and the others see created = false.
func (s *Store) CreateFirstAdmin(ctx context.Context, passwordHash string) (created bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var admin []User
		err := tx.SelectContext(ctx, &admin, `
			INSERT INTO users (username, password_hash, role)
			SELECT 'admin', $1, 'ADMIN'
			WHERE NOT EXISTS (SELECT 1 FROM users)
			ON CONFLICT ((lower(username))) DO NOTHING
			RETURNING `+userColumns, passwordHash)
		if err != nil || len(admin) == 0 {
			return wrap(err, "create the first admin")
		}
		created = true
		return audit(ctx, tx, auditEntry{Action: AuditUserCreated, TargetID: &admin[0].ID, After: auditOf(&admin[0])})
	})
	return created, err
}

// userWriteError turns constraint violations of a user insert or update into coded errors.
func userWriteError(err error, username string) error {
	code, constraint := constraintName(err)
	switch {
	case code == pqUniqueViolation && constraint == "users_username_key":
		return apperr.New(apperr.Conflict, "the username %q is taken (usernames are unique whatever their case)", username)
	case code == pqCheckViolation && constraint == "areas_dispatcher_limit":
		return apperr.New(apperr.Conflict, "that area already has 10 active dispatchers, the most it may have; deactivate one first")
	case code == pqCheckViolation && constraint == "users_username_format":
		return apperr.New(apperr.BadUserInput, "a username is 3-32 letters, digits or underscores")
	case code == pqCheckViolation && constraint == "users_area_iff_dispatcher":
		return apperr.New(apperr.BadUserInput, "a dispatcher needs an area, and other roles have none")
	}
	return wrap(err, "write user")
}

// UserByID returns the user with the id, or NOT_FOUND.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	if err != nil {
		return nil, wrap(notFoundIfNoRows(err, "no user with that id"), "fetch user")
	}
	return &u, nil
}

// UserByUsername returns the user with the username in any case, or NOT_FOUND.
func (s *Store) UserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(username) = $1`,
		strings.ToLower(username))
	if err != nil {
		return nil, wrap(notFoundIfNoRows(err, "no user named %q", username), "fetch user")
	}
	return &u, nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`)
	return n, wrap(err, "count users")
}

// UserFilter narrows Users; nil fields match everything.
type UserFilter struct {
	Role   *Role
	AreaID *int64
}

// UserPage is one keyset page of users in id order, with the count of every match.
type UserPage struct {
	Users      []*User
	HasNext    bool
	TotalCount int
}

// Users returns the users matching the filter, a page at a time in id order, as the actor
// may see them (User.VisibleTo).
func (s *Store) Users(ctx context.Context, a Actor, filter UserFilter, page Page) (*UserPage, error) {
	var users []*User
	err := s.db.SelectContext(ctx, &users, `
		SELECT `+userColumns+`
		FROM users
		WHERE ($1::text IS NULL OR role = $1) AND ($2::int IS NULL OR area_id = $2) AND id > $3
		ORDER BY id
		LIMIT $4`, filter.Role, filter.AreaID, page.AfterID, page.Limit+1)
	if err != nil {
		return nil, wrap(err, "list users")
	}
	out := &UserPage{}
	out.Users, out.HasNext = trim(usersVisibleTo(users, a), page)
	err = s.db.GetContext(ctx, &out.TotalCount, `
		SELECT count(*)
		FROM users
		WHERE ($1::text IS NULL OR role = $1) AND ($2::int IS NULL OR area_id = $2)`, filter.Role, filter.AreaID)
	if err != nil {
		return nil, wrap(err, "count users")
	}
	return out, nil
}
