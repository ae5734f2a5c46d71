package db

import (
	"context"
	"strings"

	"tracetrack/apperr"
)

// Actor is who acts in a request: the user, their role and area (what they may see and
// change), and where the request comes from (for the audit log). Every store method that
// reads or writes user-visible data takes the Actor and applies its scope itself, so no
// caller can forget it. The zero Actor is nobody: it sees no area. System is the server
// itself (start-up, fixtures, the event hub). Bills belong to no area, so bill reads and the
// bill-only writes (update, complete, reopen) take no actor; what hangs off a bill (its parent
// bags) is scoped like everything else.
type Actor struct {
	// UserID is nil for the server itself and for anonymous callers.
	UserID     *int64
	Role       Role
	AreaID     *int64
	RequestID  string
	RemoteAddr string
}

// System is the server acting on its own behalf: every area, no user in the audit log.
var System = Actor{Role: RoleAdmin}

// ActorOf is the actor of a signed-in user (without request origin).
func ActorOf(u *User) Actor {
	if u == nil {
		return Actor{}
	}
	return Actor{UserID: &u.ID, Role: u.Role, AreaID: u.AreaID}
}

// seesAllAreas: admins and billers (and the server) see every area.
func (a Actor) seesAllAreas() bool {
	return a.Role == RoleAdmin || a.Role == RoleBiller
}

// MaySeeArea reports whether the actor may see or change something of the area (nil: a bag
// of no area, which only admins and billers see). Dispatchers see their own area only;
// nobody else (no role) sees anything.
func (a Actor) MaySeeArea(areaID *int64) bool {
	if a.seesAllAreas() {
		return true
	}
	return a.Role == RoleDispatcher && a.AreaID != nil && areaID != nil && *areaID == *a.AreaID
}

// isSelf reports whether the actor is the user with the id.
func (a Actor) isSelf(userID int64) bool {
	return a.UserID != nil && *a.UserID == userID
}

// MaySeePrivate reports whether the actor may see a user's private fields (email, last
// login): admins, and the user themself.
func (a Actor) MaySeePrivate(userID int64) bool {
	return a.Role == RoleAdmin || a.isSelf(userID)
}

// VisibleTo returns the user as the actor may see them: email and last login are blanked for
// everyone but admins and the user themself. The password hash never leaves the store's
// callers in the auth package anyway.
func (u *User) VisibleTo(a Actor) *User {
	if u == nil || a.MaySeePrivate(u.ID) {
		return u
	}
	c := *u
	c.Email, c.LastLoginAt = nil, nil
	return &c
}

// usersVisibleTo applies VisibleTo to each user.
func usersVisibleTo(users []*User, a Actor) []*User {
	for i, u := range users {
		users[i] = u.VisibleTo(a)
	}
	return users
}

// ReadScope is the area filter of the actor's lists, counts, summaries and stats when they
// ask for the area asked (nil: none asked). Admins and billers get what they asked (nil: every
// area). A dispatcher gets their own area: asking for another is FORBIDDEN, never silently
// narrowed or widened. Anyone else is UNAUTHENTICATED.
func (a Actor) ReadScope(asked *int64) (*int64, error) {
	if a.seesAllAreas() {
		return asked, nil
	}
	if a.Role != RoleDispatcher || a.AreaID == nil {
		return nil, apperr.SignInFirst()
	}
	if asked != nil && *asked != *a.AreaID {
		return nil, apperr.New(apperr.Forbidden, "dispatchers see only their own area; leave the area out or pass yours")
	}
	return a.AreaID, nil
}

// ReadableArea resolves an asked area code (nil, empty or blank: none asked) and returns the
// actor's read scope for it (Actor.ReadScope). Every area argument of the API goes through it.
func (s *Store) ReadableArea(ctx context.Context, a Actor, code *string) (*int64, error) {
	asked, err := s.AreaIDOfCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return a.ReadScope(asked)
}

// AreaIDOfCode returns the id of the area with the code; nil, empty or blank means no area
// (nil). An unknown code is BAD_USER_INPUT.
func (s *Store) AreaIDOfCode(ctx context.Context, code *string) (*int64, error) {
	if code == nil || strings.TrimSpace(*code) == "" {
		return nil, nil
	}
	area, err := s.AreaByCode(ctx, *code)
	if err != nil {
		return nil, err
	}
	return &area.ID, nil
}

// scopeParam is the SQL parameter of the actor's area scope, for `($n::bigint IS NULL OR
// area_id = $n)`: NULL for every area, the dispatcher's area, or noArea (matches no row) for
// anyone who sees none.
func (a Actor) scopeParam() *int64 {
	switch {
	case a.seesAllAreas():
		return nil
	case a.Role == RoleDispatcher && a.AreaID != nil:
		return a.AreaID
	}
	none := noArea
	return &none
}

// noArea is an area id no row has (ids start at 1).
const noArea int64 = 0

// errForbiddenBag is the refusal of a bag of another area. It names nothing of the bag: not
// its QR, not its parent, not its area.
func errForbiddenBag() error {
	return apperr.New(apperr.Forbidden, "that bag belongs to another dispatch area than yours; you see and change only your own area's bags")
}

// errForbiddenScan is the refusal of a scan of another area.
func errForbiddenScan() error {
	return apperr.New(apperr.Forbidden, "that scan belongs to another dispatch area than yours")
}

// checkBag refuses a bag the actor may not see (FORBIDDEN naming nothing of it).
func (a Actor) checkBag(b *Bag) error {
	if b != nil && !a.MaySeeArea(b.AreaID) {
		return errForbiddenBag()
	}
	return nil
}
