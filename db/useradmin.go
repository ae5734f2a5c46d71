package db

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// UserChanges is an update of a user; nil fields stay as they are.
type UserChanges struct {
	// Email "" removes the address.
	Email        *string
	PasswordHash *string
	Role         *Role
	// AreaID is for dispatchers; a user who stops being a dispatcher loses the area anyway.
	AreaID *int64
	Active *bool
}

// userUpdateAudit is the after-image of an update in the audit log.
type userUpdateAudit struct {
	*userAudit
	PasswordChanged bool `json:"passwordChanged,omitempty"`
}

// UpdateUser applies the changes to the user with the id under the rules of SPEC.md: nobody
// changes their own role or deactivates themselves (FORBIDDEN), the last active admin stays
// one (CONFLICT), a dispatcher has exactly one area (BAD_USER_INPUT). A deactivation or a new
// password revokes the user's tokens, except the token keepToken the caller is using.
func (s *Store) UpdateUser(ctx context.Context, actor Actor, id int64, ch UserChanges, keepToken int64) (*User, error) {
	var updated User
	err := s.inSessionsTx(ctx, id, func(tx *sqlx.Tx) error {
		admins, before, err := lockForAdminChange(ctx, tx, id)
		if err != nil {
			return err
		}
		after, err := applyChanges(*before, ch)
		if err != nil {
			return err
		}
		if err := checkUserUpdate(actor.UserID, before, &after, admins); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &updated, `
			UPDATE users
			SET email = $2, password_hash = $3, role = $4, area_id = $5, active = $6, updated_at = now()
			WHERE id = $1
			RETURNING `+userColumns,
			id, after.Email, after.PasswordHash, after.Role, after.AreaID, after.Active)
		if err != nil {
			return userWriteError(err, before.Username)
		}
		if ch.PasswordHash != nil || !updated.Active {
			if err := revokeUserTokens(ctx, tx, id, keepToken); err != nil {
				return err
			}
		}
		return audit(ctx, tx, auditEntry{Actor: actor, Action: AuditUserUpdated, TargetID: &id,
			Before: auditOf(before), After: userUpdateAudit{auditOf(&updated), ch.PasswordHash != nil}})
	})
	if err != nil {
		return nil, err
	}
	return updated.VisibleTo(actor), nil
}

// applyChanges returns u with the changes applied.
func applyChanges(u User, ch UserChanges) (User, error) {
	if ch.Email != nil {
		email, err := normalizeEmail(ch.Email)
		if err != nil {
			return u, err
		}
		u.Email = email
	}
	if ch.PasswordHash != nil {
		u.PasswordHash = *ch.PasswordHash
	}
	if ch.Role != nil {
		u.Role = *ch.Role
		if u.Role != RoleDispatcher && ch.AreaID == nil {
			u.AreaID = nil
		}
	}
	if ch.AreaID != nil {
		u.AreaID = ch.AreaID
	}
	if ch.Active != nil {
		u.Active = *ch.Active
	}
	return u, nil
}

// DeleteUser deletes the user with the id: their tokens go with them, and the bags, bills and
// scans they made stay with no creator. Nobody deletes themselves (FORBIDDEN) and the last
// active admin stays (CONFLICT).
func (s *Store) DeleteUser(ctx context.Context, actor Actor, id int64) error {
	return s.inSessionsTx(ctx, id, func(tx *sqlx.Tx) error {
		admins, target, err := lockForAdminChange(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkUserDelete(actor.UserID, target, admins); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return wrap(err, "delete user")
		}
		return audit(ctx, tx, auditEntry{Actor: actor, Action: AuditUserDeleted, TargetID: &id, Before: auditOf(target)})
	})
}

// lockForAdminChange locks the rows of every active admin, then the user with the id, and
// returns the admins' ids and the user (or NOT_FOUND). Every change that could remove an
// admin takes these locks first, admins in id order, so two such changes never deadlock: the
// second waits for the first and then sees its outcome. FOR NO KEY UPDATE leaves inserts
// that reference the users (bags.created_by) free to go on.
func lockForAdminChange(ctx context.Context, tx *sqlx.Tx, id int64) ([]int64, *User, error) {
	var admins []int64
	err := tx.SelectContext(ctx, &admins, `
		SELECT id
		FROM users
		WHERE role = 'ADMIN' AND active
		ORDER BY id
		FOR NO KEY UPDATE`)
	if err != nil {
		return nil, nil, wrap(err, "lock admins")
	}
	var u User
	err = tx.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR NO KEY UPDATE`, id)
	if err != nil {
		return nil, nil, wrap(notFoundIfNoRows(err, "no user with that id; it may have been deleted"), "lock user")
	}
	return admins, &u, nil
}
