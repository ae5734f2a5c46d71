package db

import (
	"net/mail"
	"slices"
	"strings"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// The user rules of SPEC.md that depend only on values. They run inside the store's
// transactions, after the rows they look at are locked, so their answers stay true until
// the commit.

// checkRoleArea enforces "a dispatcher has exactly one area; other roles have none".
func checkRoleArea(role Role, areaID *int64) error {
	switch {
	case role == RoleDispatcher && areaID == nil:
		return apperr.New(apperr.BadUserInput, "a dispatcher needs an area: pass areaCode (for example jaipur)")
	case role != RoleDispatcher && areaID != nil:
		return apperr.New(apperr.BadUserInput, "only dispatchers have an area; leave areaCode out for %s", role)
	}
	return nil
}

// normalizeEmail trims an e-mail address; an empty one means none. Anything that is not a
// bare address (user@host) is BAD_USER_INPUT.
func normalizeEmail(email *string) (*string, error) {
	if email == nil {
		return nil, nil
	}
	trimmed := strings.TrimSpace(*email)
	if trimmed == "" {
		return nil, nil
	}
	addr, err := mail.ParseAddress(trimmed)
	if err != nil || addr.Address != trimmed || len(trimmed) > 254 {
		return nil, apperr.New(apperr.BadUserInput, "%s is not an e-mail address like name@example.com", scalar.Quote(trimmed))
	}
	return &trimmed, nil
}

// checkUserUpdate enforces the admin safety rules for a change from before to after made by
// actorID, given the ids of every active admin (locked by the caller).
func checkUserUpdate(actorID *int64, before, after *User, activeAdmins []int64) error {
	self := actorID != nil && *actorID == before.ID
	if self && after.Role != before.Role {
		return apperr.New(apperr.Forbidden, "you cannot change your own role; ask another admin")
	}
	if self && before.Active && !after.Active {
		return apperr.New(apperr.Forbidden, "you cannot deactivate yourself; ask another admin")
	}
	stillAdmin := after.Role == RoleAdmin && after.Active
	if isLastAdmin(before, activeAdmins) && !stillAdmin {
		return apperr.New(apperr.Conflict, "%s is the last active admin and must stay one; make another user an admin first", before.Username)
	}
	return checkRoleArea(after.Role, after.AreaID)
}

// checkUserDelete enforces "nobody deletes themselves; the last active admin stays".
func checkUserDelete(actorID *int64, target *User, activeAdmins []int64) error {
	if actorID != nil && *actorID == target.ID {
		return apperr.New(apperr.Forbidden, "you cannot delete yourself; ask another admin")
	}
	if isLastAdmin(target, activeAdmins) {
		return apperr.New(apperr.Conflict, "%s is the last active admin and cannot be deleted; make another user an admin first", target.Username)
	}
	return nil
}

func isLastAdmin(u *User, activeAdmins []int64) bool {
	return len(activeAdmins) == 1 && slices.Contains(activeAdmins, u.ID)
}
