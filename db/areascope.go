package db

import (
	"context"

	"tracetrack/apperr"
)

// ReadableArea returns the area whose bags, scans and stats user may read when asking for
// code: a dispatcher only their own (no code means theirs; another is FORBIDDEN, never
// silently narrowed); admins and billers the asked area, or every area (nil) for no code.
func (s *Store) ReadableArea(ctx context.Context, user *User, code *string) (*int64, error) {
	var asked *int64
	if code != nil && *code != "" {
		area, err := s.AreaByCode(ctx, *code)
		if err != nil {
			return nil, err
		}
		asked = &area.ID
	}
	if user.Role != RoleDispatcher {
		return asked, nil
	}
	if asked != nil && *asked != *user.AreaID {
		return nil, apperr.New(apperr.Forbidden, "dispatchers see only their own area; leave the area out or pass yours")
	}
	return user.AreaID, nil
}
