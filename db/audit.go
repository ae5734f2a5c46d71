package db

import (
	"context"
	"encoding/json"

	"github.com/jmoiron/sqlx"
)

// AuditAction names an entry of the audit log.
type AuditAction string

const (
	AuditLogin           AuditAction = "LOGIN"
	AuditLoginFailed     AuditAction = "LOGIN_FAILED"
	AuditLoginLocked     AuditAction = "LOGIN_LOCKED"
	AuditLogout          AuditAction = "LOGOUT"
	AuditPasswordChanged AuditAction = "PASSWORD_CHANGED"
	AuditUserCreated     AuditAction = "USER_CREATED"
	AuditUserUpdated     AuditAction = "USER_UPDATED"
	AuditUserDeleted     AuditAction = "USER_DELETED"
	AuditUserUnlocked    AuditAction = "USER_UNLOCKED"
)

// auditEntry is one row of audit_log. Before and After are marshalled to JSON; they must
// never hold a secret (userAudit is the shape used for users).
type auditEntry struct {
	Actor    Actor
	Action   AuditAction
	TargetID *int64
	Before   any
	After    any
}

// userAudit is what the audit log keeps of a user: everything but the password hash and the
// lockout bookkeeping.
type userAudit struct {
	Username string  `json:"username"`
	Email    *string `json:"email,omitempty"`
	Role     Role    `json:"role"`
	AreaID   *int64  `json:"areaId,omitempty"`
	Active   bool    `json:"active"`
}

func auditOf(u *User) *userAudit {
	if u == nil {
		return nil
	}
	return &userAudit{Username: u.Username, Email: u.Email, Role: u.Role, AreaID: u.AreaID, Active: u.Active}
}

// audit appends an entry to the audit log inside the caller's transaction, so the entry
// exists exactly when the change it describes does.
func audit(ctx context.Context, tx sqlx.ExecerContext, e auditEntry) error {
	before, err := jsonOrNull(e.Before)
	if err != nil {
		return wrap(err, "encode audit entry")
	}
	after, err := jsonOrNull(e.After)
	if err != nil {
		return wrap(err, "encode audit entry")
	}
	var targetType *string
	if e.TargetID != nil {
		user := "user"
		targetType = &user
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after, request_id, remote_addr)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), NULLIF($8, ''))`,
		e.Actor.UserID, e.Action, targetType, e.TargetID, before, after, e.Actor.RequestID, e.Actor.RemoteAddr)
	return wrap(err, "write audit log")
}

// jsonOrNull marshals v, keeping a nil value (or nil pointer) as SQL NULL.
func jsonOrNull(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil || string(raw) == "null" {
		return nil, err
	}
	s := string(raw)
	return &s, nil
}

// AuditEntry is a row of the audit log as tests and operators read it.
type AuditEntry struct {
	ID         int64       `db:"id"`
	ActorID    *int64      `db:"actor_id"`
	Action     AuditAction `db:"action"`
	TargetID   *int64      `db:"target_id"`
	Before     *string     `db:"before"`
	After      *string     `db:"after"`
	RequestID  *string     `db:"request_id"`
	RemoteAddr *string     `db:"remote_addr"`
}

// AuditLog returns the audit entries with the action, oldest first.
func (s *Store) AuditLog(ctx context.Context, action AuditAction) ([]AuditEntry, error) {
	var entries []AuditEntry
	err := s.db.SelectContext(ctx, &entries, `
		SELECT id, actor_id, action, target_id, before, after, request_id, remote_addr
		FROM audit_log
		WHERE action = $1
		ORDER BY id`, action)
	return entries, wrap(err, "read audit log")
}
