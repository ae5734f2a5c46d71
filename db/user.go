package db

import (
	"context"
	"strings"

	"tracetrack/apperr"
)

const userColumns = `id, username, email, password_hash, role, area_id, active, failed_logins,
	locked_until, created_at, last_login_at`

// NewUser is what CreateUser needs; PasswordHash is already hashed.
type NewUser struct {
	Username     string
	Email        *string
	PasswordHash string
	Role         Role
	AreaID       *int64
}

// CreateUser inserts a user. A taken username (any case) is CONFLICT; a full area is CONFLICT.
func (s *Store) CreateUser(ctx context.Context, u NewUser) (*User, error) {
	var created User
	err := s.db.GetContext(ctx, &created, `
		INSERT INTO users (username, email, password_hash, role, area_id)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING `+userColumns,
		u.Username, u.Email, u.PasswordHash, u.Role, u.AreaID)
	if err != nil {
		return nil, userWriteError(err, u.Username)
	}
	return &created, nil
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

// CountUsers returns how many users exist (the first start creates admin when there are none).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`)
	return n, wrap(err, "count users")
}
