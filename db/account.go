package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"tracetrack/apperr"
)

// The bookkeeping of logins: failure counts, lockouts, last login, password changes. The
// rules (how many failures, for how long) are the auth package's; the store applies them in
// single statements so concurrent attempts cannot lose a count.

// LockoutPolicy says how many failed logins in a row lock an account, and until when.
type LockoutPolicy struct {
	MaxFailures int
	LockUntil   time.Time
}

// LoginFailure is the state of an account after a failed login.
type LoginFailure struct {
	FailedLogins int        `db:"failed_logins" json:"failedLogins"`
	LockedUntil  *time.Time `db:"locked_until" json:"lockedUntil,omitempty"`
	// NewlyLocked says this failure locked the account (not one before it).
	NewlyLocked bool `db:"-" json:"-"`
}

// RecordFailedLogin counts a wrong password for the user at now and logs it. The count and
// the lock change in one UPDATE, so concurrent attempts each count; a lock that has expired
// starts a new count. An account already locked keeps its lock and count (LockedUntil tells).
func (s *Store) RecordFailedLogin(ctx context.Context, actor Actor, userID int64, now time.Time, policy LockoutPolicy) (LoginFailure, error) {
	var state LoginFailure
	err := s.inSessionsTx(ctx, userID, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &state, `
			UPDATE users
			SET failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END,
			    locked_until = CASE WHEN (CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END) >= $3
			                        THEN $4::timestamptz END
			WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)
			RETURNING failed_logins, locked_until`, userID, now, policy.MaxFailures, policy.LockUntil)
		state.NewlyLocked = err == nil && state.LockedUntil != nil
		if errors.Is(err, sql.ErrNoRows) {
			// locked meanwhile by a concurrent attempt (or deleted): report the lock as it is
			err = tx.GetContext(ctx, &state, `SELECT failed_logins, locked_until FROM users WHERE id = $1`, userID)
			state.NewlyLocked = err == nil && state.LockedUntil != nil
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
		}
		if err != nil {
			return wrap(err, "count a failed login")
		}
		action := AuditLoginFailed
		if state.LockedUntil != nil && state.LockedUntil.After(now) {
			action = AuditLoginLocked
		}
		return audit(ctx, tx, auditEntry{Actor: actor, Action: action, TargetID: &userID, After: state})
	})
	return state, err
}

// AuditLoginRefused logs a login refused before any password was compared: an unknown
// username (userID nil) or a locked account. username is what was typed, never a password.
func (s *Store) AuditLoginRefused(ctx context.Context, actor Actor, action AuditAction, userID *int64, username string) error {
	return audit(ctx, s.db, auditEntry{Actor: actor, Action: action, TargetID: userID,
		After: map[string]string{"username": username}})
}

// NewSession is a successful login: the user whose password matched (as hashed when it was
// checked) and the token to issue.
type NewSession struct {
	UserID       int64
	PasswordHash string
	Now          time.Time
	TokenHash    []byte
	ExpiresAt    time.Time
}

// RecordLogin issues the token of a successful login, deletes the user's expired and
// revoked tokens, resets the failure count, sets last_login_at and logs it, in one transaction. It returns nil when the account changed
// since its password was checked (deactivated, locked, new password): no token then.
func (s *Store) RecordLogin(ctx context.Context, actor Actor, ns NewSession) (*User, error) {
	var user User
	err := s.inSessionsTx(ctx, ns.UserID, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &user, `
			UPDATE users
			SET failed_logins = 0, locked_until = NULL, last_login_at = $2
			WHERE id = $1 AND active AND password_hash = $3 AND (locked_until IS NULL OR locked_until <= $2)
			RETURNING `+userColumns, ns.UserID, ns.Now, ns.PasswordHash)
		if err != nil {
			return wrap(err, "record login")
		}
		if _, err := createToken(ctx, tx, user.ID, ns.TokenHash, ns.ExpiresAt); err != nil {
			return err
		}
		if err := deleteDeadTokens(ctx, tx, user.ID, ns.Now); err != nil {
			return err
		}
		actor.UserID = &user.ID
		return audit(ctx, tx, auditEntry{Actor: actor, Action: AuditLogin, TargetID: &user.ID})
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &user, nil
}

// ChangePassword replaces the user's password hash, when it is still oldHash, revokes their
// other tokens (all but keepToken) and logs it.
func (s *Store) ChangePassword(ctx context.Context, actor Actor, userID int64, oldHash, newHash string, keepToken int64) error {
	return s.inSessionsTx(ctx, userID, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE users
			SET password_hash = $3, failed_logins = 0, updated_at = now()
			WHERE id = $1 AND password_hash = $2`, userID, oldHash, newHash)
		if err != nil {
			return wrap(err, "change password")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "your password was changed meanwhile; log in again with the new one")
		}
		if err := revokeUserTokens(ctx, tx, userID, keepToken); err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Actor: actor, Action: AuditPasswordChanged, TargetID: &userID})
	})
}

// UnlockUser ends the user's lockout at once and starts their failed-login count again at
// zero, and logs it with the state before; NOT_FOUND when there is no such user.
func (s *Store) UnlockUser(ctx context.Context, actor Actor, id int64) (*User, error) {
	var unlocked User
	err := s.inSessionsTx(ctx, id, func(tx *sqlx.Tx) error {
		var before LoginFailure
		err := tx.GetContext(ctx, &before, `SELECT failed_logins, locked_until FROM users WHERE id = $1 FOR NO KEY UPDATE`, id)
		if err != nil {
			return wrap(notFoundIfNoRows(err, "no user with that id; it may have been deleted"), "lock user")
		}
		err = tx.GetContext(ctx, &unlocked, `
			UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = now()
			WHERE id = $1
			RETURNING `+userColumns, id)
		if err != nil {
			return wrap(err, "unlock user")
		}
		return audit(ctx, tx, auditEntry{Actor: actor, Action: AuditUserUnlocked, TargetID: &id,
			Before: before, After: LoginFailure{}})
	})
	if err != nil {
		return nil, err
	}
	return &unlocked, nil
}
