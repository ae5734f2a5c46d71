package auth

import (
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// UnknownUsers keeps the lockout rule for usernames that do not exist, so that a lockout
// does not tell which usernames do: five wrong passwords for a name nobody has get
// ACCOUNT_LOCKED until a quarter of an hour later, as a real account would. It lives in
// memory (each server instance counts its own; the most recent names are kept) because
// nothing of an unknown name belongs in the database.
type UnknownUsers struct {
	mu    sync.Mutex
	names *lru.Cache[string, *unknownUser]
}

type unknownUser struct {
	failures    int
	lockedUntil *time.Time
}

// NewUnknownUsers returns an empty tracker.
func NewUnknownUsers() *UnknownUsers {
	names, _ := lru.New[string, *unknownUser](10_000) // fails only for a size <= 0
	return &UnknownUsers{names: names}
}

// lockedUntil returns until when the name is locked out, or nil.
func (u *UnknownUsers) lockedUntil(username string, now time.Time) *time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if entry, ok := u.names.Get(strings.ToLower(username)); ok && lockedAt(entry.lockedUntil, now) {
		return entry.lockedUntil
	}
	return nil
}

// failed counts a wrong password for the name under the rule of real accounts and returns
// until when the name is locked out now, or nil.
func (u *UnknownUsers) failed(username string, now time.Time) *time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	key := strings.ToLower(username)
	entry, ok := u.names.Get(key)
	if !ok || entry.lockedUntil != nil { // new, or a lock that has expired: a new count
		entry = &unknownUser{}
		u.names.Add(key, entry)
	}
	if entry.failures++; entry.failures >= MaxFailedLogins {
		until := now.Add(LockoutDuration)
		entry.lockedUntil = &until
	}
	return entry.lockedUntil
}
