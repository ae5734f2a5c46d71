package auth

import (
	"tracetrack/apperr"
	"tracetrack/db"
)

// AreaScope returns the area a caller's reads are confined to: a dispatcher's own area
// (asking for another is FORBIDDEN, never silently widened), or for admins and billers the
// area asked for, nil meaning all areas.
func AreaScope(user *db.User, requested *db.Area) (*int64, error) {
	if user.Role != db.RoleDispatcher {
		if requested == nil {
			return nil, nil
		}
		return &requested.ID, nil
	}
	if requested != nil && requested.ID != *user.AreaID {
		return nil, apperr.New(apperr.Forbidden, "dispatchers see only their own area; %s is not yours", requested.Code)
	}
	return user.AreaID, nil
}
