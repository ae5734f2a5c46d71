package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// CreateToken stores the hash of a new bearer token for the user and returns its id.
func (s *Store) CreateToken(ctx context.Context, userID int64, hash []byte, expiresAt time.Time) (int64, error) {
	return createToken(ctx, s.db, userID, hash, expiresAt)
}

func createToken(ctx context.Context, q sqlx.QueryerContext, userID int64, hash []byte, expiresAt time.Time) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `
		INSERT INTO auth_tokens (user_id, token_hash, expires_at)
		VALUES ($1, $2, $3)
		RETURNING id`, userID, hash, expiresAt)
	return id, wrap(err, "create token")
}

// TokenSession is what a live bearer token opens: its user and id, when it expires, and the
// database's clock when it was read (so a cache can check the expiry on its own clock).
type TokenSession struct {
	User
	TokenID   int64     `db:"token_id"`
	ExpiresAt time.Time `db:"expires_at"`
	ReadAt    time.Time `db:"read_at"`
}

// SessionByToken returns the session of an unrevoked, unexpired token with the hash whose
// user is active; nil when there is none.
func (s *Store) SessionByToken(ctx context.Context, hash []byte) (*TokenSession, error) {
	var row TokenSession
	err := s.db.GetContext(ctx, &row, `
		SELECT t.id AS token_id, t.expires_at, now() AS read_at, `+qualified("u", userColumns)+`
		FROM auth_tokens t
		JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now() AND u.active`, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "look up token")
	}
	return &row, nil
}

// RevokeToken revokes the actor's token with the id (logout) and logs it.
func (s *Store) RevokeToken(ctx context.Context, actor Actor, tokenID int64) error {
	var owner int64
	if actor.UserID != nil {
		owner = *actor.UserID
	}
	return s.inSessionsTx(ctx, owner, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE auth_tokens
			SET revoked_at = now()
			WHERE id = $1 AND revoked_at IS NULL`, tokenID)
		if err != nil {
			return wrap(err, "revoke token")
		}
		return audit(ctx, tx, auditEntry{Actor: actor, Action: AuditLogout, TargetID: actor.UserID})
	})
}

// revokeUserTokens revokes every live token of the user but the one with id except (0: none).
func revokeUserTokens(ctx context.Context, tx *sqlx.Tx, userID, except int64) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE auth_tokens
		SET revoked_at = now()
		WHERE user_id = $1 AND revoked_at IS NULL AND id <> $2`, userID, except)
	return wrap(err, "revoke tokens")
}

// deleteDeadTokens deletes the user's tokens that can no longer authenticate, so sessions of
// users who log in every day do not pile up (the audit log keeps the logins and logouts).
func deleteDeadTokens(ctx context.Context, tx *sqlx.Tx, userID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `
		DELETE FROM auth_tokens
		WHERE user_id = $1 AND (expires_at <= $2 OR revoked_at IS NOT NULL)`, userID, now)
	return wrap(err, "delete dead tokens")
}

// SessionsChannel is the NOTIFY channel of migration 00011: its payload is the id of a user
// whose sessions changed (role, area, active, password, email, username; a token revoked,
// moved or deleted; the user deleted). Every instance listens, so what caches or holds a
// session (open websockets) re-reads it.
const SessionsChannel = "tracetrack_sessions"

// TokenState is whether a bearer token still opens a session.
type TokenState string

// Token states for sessions that are re-read.
const (
	TokenLive    TokenState = "LIVE"
	TokenExpired TokenState = "EXPIRED"
	// TokenRevoked also covers a deactivated user and a token (or user) that is gone.
	TokenRevoked TokenState = "REVOKED"
)

// SessionState is a token as it is now: its state and, while it is LIVE, its user.
type SessionState struct {
	Token TokenState
	User  *User
}

// SessionStates re-reads the sessions of the token ids with one query; ids that no longer
// exist are REVOKED.
func (s *Store) SessionStates(ctx context.Context, tokenIDs []int64) (map[int64]SessionState, error) {
	var rows []struct {
		User
		TokenID int64      `db:"token_id"`
		State   TokenState `db:"state"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT t.id AS token_id,
		       CASE WHEN t.revoked_at IS NOT NULL OR NOT u.active THEN 'REVOKED'
		            WHEN t.expires_at <= now() THEN 'EXPIRED'
		            ELSE 'LIVE' END AS state,
		       `+qualified("u", userColumns)+`
		FROM auth_tokens t
		JOIN users u ON u.id = t.user_id
		WHERE t.id = ANY($1)`, pq.Int64Array(tokenIDs))
	if err != nil {
		return nil, wrap(err, "re-read sessions")
	}
	states := make(map[int64]SessionState, len(tokenIDs))
	for _, id := range tokenIDs {
		states[id] = SessionState{Token: TokenRevoked}
	}
	for i := range rows {
		state := SessionState{Token: rows[i].State}
		if state.Token == TokenLive {
			state.User = &rows[i].User
		}
		states[rows[i].TokenID] = state
	}
	return states, nil
}
