package auth

import (
	"context"
	"strings"
	"time"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/metrics"
)

// The lockout rule of SPEC.md: 5 failed logins in a row lock the account for 15 minutes.
const (
	MaxFailedLogins = 5
	LockoutDuration = 15 * time.Minute
)

// Accounts runs the login, logout and password-change flows over the store.
type Accounts struct {
	Store    *db.Store
	Hasher   *Hasher
	TokenTTL time.Duration
	// Unknown keeps the lockout of usernames that do not exist (the server's one tracker).
	Unknown *UnknownUsers
	// Now is the clock (nil: time.Now); tests move it to expire lockouts and tokens.
	Now func() time.Time
}

// Login is a successful login: the bearer token to send and when it expires.
type Login struct {
	Token     string
	ExpiresAt time.Time
	User      *db.User
}

// errBadCredentials is the one answer to a wrong username or a wrong password, so that the
// answer does not tell which usernames exist.
func errBadCredentials() error {
	return apperr.New(apperr.Unauthenticated, "wrong username or password")
}

func (a *Accounts) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Login checks the username and password and issues a token. An unknown username costs a
// password comparison like a known one and gets the same answer; a locked account gets
// ACCOUNT_LOCKED with the time it unlocks.
func (a *Accounts) Login(ctx context.Context, username, password string) (*Login, error) {
	now := a.now()
	actor := ActorFrom(ctx)
	username = strings.TrimSpace(username)
	user, err := a.Store.UserByUsername(ctx, username)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, a.unknownUser(ctx, actor, username, password, now)
	}
	if err != nil {
		return nil, err
	}
	if err := a.refuseLocked(ctx, actor, user, now); err != nil {
		return nil, err
	}
	ok, err := a.Hasher.Check(ctx, user.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := a.failed(ctx, actor, user.ID, now); err != nil {
			return nil, err
		}
		return nil, errBadCredentials()
	}
	if !user.Active {
		metrics.LoginFailures.Inc()
		if err := a.Store.AuditLoginRefused(ctx, actor, db.AuditLoginFailed, &user.ID, username); err != nil {
			return nil, err
		}
		return nil, apperr.New(apperr.Unauthenticated, "this account is deactivated; ask an admin to reactivate it")
	}
	return a.issue(ctx, actor, user, now)
}

// unknownUser answers a login of a username nobody has exactly as one of a real account
// with a wrong password: one comparison's time, the same message, and after five in a row
// ACCOUNT_LOCKED (without a comparison, as for a locked account) until the lock ends.
func (a *Accounts) unknownUser(ctx context.Context, actor db.Actor, username, password string, now time.Time) error {
	metrics.LoginFailures.Inc()
	if until := a.Unknown.lockedUntil(username, now); until != nil {
		if err := a.Store.AuditLoginRefused(ctx, actor, db.AuditLoginLocked, nil, username); err != nil {
			return err
		}
		return errLocked(*until)
	}
	if _, err := a.Hasher.Check(ctx, "", password); err != nil {
		return err
	}
	if err := a.Store.AuditLoginRefused(ctx, actor, db.AuditLoginFailed, nil, username); err != nil {
		return err
	}
	if until := a.Unknown.failed(username, now); until != nil {
		return errLocked(*until)
	}
	return errBadCredentials()
}

// refuseLocked answers ACCOUNT_LOCKED, before any password is compared, while the user is
// locked out; the attempt counts as a failed login.
func (a *Accounts) refuseLocked(ctx context.Context, actor db.Actor, user *db.User, now time.Time) error {
	if !lockedAt(user.LockedUntil, now) {
		return nil
	}
	metrics.LoginFailures.Inc()
	if err := a.Store.AuditLoginRefused(ctx, actor, db.AuditLoginLocked, &user.ID, user.Username); err != nil {
		return err
	}
	return errLocked(*user.LockedUntil)
}

// failed counts a wrong password of the user (given to login or to changePassword) and
// returns ACCOUNT_LOCKED when the account is locked now, nil otherwise.
func (a *Accounts) failed(ctx context.Context, actor db.Actor, userID int64, now time.Time) error {
	metrics.LoginFailures.Inc()
	state, err := a.Store.RecordFailedLogin(ctx, actor, userID, now,
		db.LockoutPolicy{MaxFailures: MaxFailedLogins, LockUntil: now.Add(LockoutDuration)})
	if err != nil {
		return err
	}
	if state.NewlyLocked {
		metrics.Lockouts.Inc()
	}
	if lockedAt(state.LockedUntil, now) {
		return errLocked(*state.LockedUntil)
	}
	return nil
}

func (a *Accounts) issue(ctx context.Context, actor db.Actor, user *db.User, now time.Time) (*Login, error) {
	token, hash := NewToken()
	expiresAt := now.Add(a.TokenTTL)
	signedIn, err := a.Store.RecordLogin(ctx, actor, db.NewSession{
		UserID: user.ID, PasswordHash: user.PasswordHash, Now: now, TokenHash: hash, ExpiresAt: expiresAt,
	})
	if err != nil {
		return nil, err
	}
	if signedIn == nil { // deactivated, locked or given a new password while we compared
		return nil, errBadCredentials()
	}
	return &Login{Token: token, ExpiresAt: expiresAt, User: signedIn}, nil
}

func lockedAt(lockedUntil *time.Time, now time.Time) bool {
	return lockedUntil != nil && lockedUntil.After(now)
}

func errLocked(until time.Time) error {
	until = until.UTC().Truncate(time.Second)
	return apperr.New(apperr.AccountLocked,
		"too many failed logins: the account is locked until %s; try again then or ask an admin",
		until.Format(time.RFC3339)).With("lockedUntil", until.Format(time.RFC3339))
}

// Logout revokes the token of the session in ctx.
func (a *Accounts) Logout(ctx context.Context) error {
	s := SessionFrom(ctx)
	if s == nil {
		_, err := Require(ctx)
		return err
	}
	return a.Store.RevokeToken(ctx, ActorFrom(ctx), s.TokenID)
}

// ChangePassword replaces the signed-in user's password after checking the current one, and
// revokes their other tokens (the one in use stays valid). The check is a login in all but
// name, so that a stolen token is no password oracle: a wrong current password counts as a
// failed login, and a locked account is refused (ACCOUNT_LOCKED) before any comparison.
func (a *Accounts) ChangePassword(ctx context.Context, current, next string) error {
	s := SessionFrom(ctx)
	if s == nil {
		_, err := Require(ctx)
		return err
	}
	now, actor := a.now(), ActorFrom(ctx)
	if err := a.refuseLocked(ctx, actor, s.User, now); err != nil {
		return err
	}
	ok, err := a.Hasher.Check(ctx, s.User.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		if err := a.failed(ctx, actor, s.User.ID, now); err != nil {
			return err
		}
		return apperr.New(apperr.BadUserInput,
			"the current password is wrong; %d wrong passwords in a row lock the account for %d minutes", MaxFailedLogins, int(LockoutDuration.Minutes()))
	}
	hash, err := a.Hasher.HashNew(ctx, next)
	if err != nil {
		return err
	}
	return a.Store.ChangePassword(ctx, actor, s.User.ID, s.User.PasswordHash, hash, s.TokenID)
}
