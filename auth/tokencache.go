package auth

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"tracetrack/db"
)

// DefaultTokenCacheSize is TOKEN_CACHE_SIZE when unset: the sessions one instance keeps in
// memory (about 1 KiB each), far more than the people signed in at once.
const DefaultTokenCacheSize = 10_000

// TokenCache verifies bearer tokens from memory, so that a request on a warm cache runs no
// token statement. It stays correct through the sessions notifications of migrations 00011
// and 00019 (live.SessionWatcher calls its SessionsChanged, SessionsResync and
// SessionsUnheard):
//   - every committed change to a user row or to one of its tokens evicts that user's
//     sessions, on every instance, as soon as the notification arrives (milliseconds);
//   - while notifications may go unheard (the LISTEN connection is down or does not answer
//     its heartbeat, or has not connected yet), the cache is empty and bypassed: every
//     request reads its token from the database, as without a cache;
//   - the expiry is checked on every request against the cached expiry; the cached copy
//     expires a little early rather than late (see Verify), and the database decides then.
//
// Tokens have a fixed expiry (login time + TOKEN_TTL, never extended by use), so a cache hit
// writes nothing either. Unknown tokens are not cached: guessing costs a statement each, and
// the client IP's rate limit.
type TokenCache struct {
	store *db.Store

	mu sync.Mutex
	// heard: notifications reach this instance now, so cached sessions can be trusted.
	heard bool
	// generation changes with every eviction and flush. A session read from the database is
	// cached only if the generation did not change while it was read: a notification that
	// arrived meanwhile may be about what was read.
	generation uint64
	sessions   *simplelru.LRU[[sha256.Size]byte, cachedSession]
	// byUser indexes sessions by user, so a notification evicts a user's sessions without a
	// walk over the cache.
	byUser map[int64]map[[sha256.Size]byte]struct{}

	misses atomic.Int64
}

type cachedSession struct {
	session *Session
	// expiresAt is the token's expiry on this instance's clock, moved earlier by the
	// database's clock lead and the lookup's round trip.
	expiresAt time.Time
}

// NewTokenCache returns a cache of at most size sessions (the least recently used go first);
// size <= 0 caches nothing, so that every request reads its token.
func NewTokenCache(store *db.Store, size int) *TokenCache {
	c := &TokenCache{store: store, byUser: map[int64]map[[sha256.Size]byte]struct{}{}}
	if size > 0 {
		c.sessions, _ = simplelru.NewLRU(size, c.forget) // fails only for size <= 0
	}
	return c
}

// forget drops an evicted session from byUser (the LRU calls it, under c.mu).
func (c *TokenCache) forget(key [sha256.Size]byte, entry cachedSession) {
	id := entry.session.User.ID
	delete(c.byUser[id], key)
	if len(c.byUser[id]) == 0 {
		delete(c.byUser, id)
	}
}

// Verify returns the session a bearer token opens, or nil for a token that is unknown,
// expired, revoked, or whose user is deactivated or gone.
func (c *TokenCache) Verify(ctx context.Context, token string) (*Session, error) {
	var buf [64]byte // a token is 43 characters: hashed without a copy on the heap
	key := sha256.Sum256(append(buf[:0], token...))
	s, generation, hit := c.cached(key)
	if hit {
		return s, nil
	}
	return c.read(ctx, key, generation)
}

// cached returns the cached session of key if it is trusted and unexpired, and else the
// generation a session read now must be cached under.
func (c *TokenCache) cached(key [sha256.Size]byte) (*Session, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.heard || c.sessions == nil {
		return nil, c.generation, false
	}
	entry, ok := c.sessions.Get(key)
	if !ok {
		return nil, c.generation, false
	}
	if !time.Now().Before(entry.expiresAt) {
		c.sessions.Remove(key)
		return nil, c.generation, false
	}
	return entry.session, 0, true
}

// read looks the token up in the database and caches its session when nothing was evicted
// since generation was taken.
func (c *TokenCache) read(ctx context.Context, key [sha256.Size]byte, generation uint64) (*Session, error) {
	c.misses.Add(1)
	sent := time.Now()
	found, err := c.store.SessionByToken(ctx, key[:])
	if err != nil || found == nil {
		return nil, err
	}
	session := &Session{User: &found.User, TokenID: found.TokenID}
	// The database checked expires_at > now() on its clock, found.ReadAt; this instance's
	// clock read sent before that, so found.ReadAt - sent is its lead plus part of the round
	// trip, and the expiry moved back by it falls at or before the real one.
	expiresAt := found.ExpiresAt.Add(-found.ReadAt.Sub(sent))
	c.mu.Lock()
	if c.heard && c.sessions != nil && c.generation == generation {
		c.sessions.Add(key, cachedSession{session: session, expiresAt: expiresAt})
		keys := c.byUser[session.User.ID]
		if keys == nil {
			keys = map[[sha256.Size]byte]struct{}{}
			c.byUser[session.User.ID] = keys
		}
		keys[key] = struct{}{}
	}
	c.mu.Unlock()
	return session, nil
}

// Misses counts the lookups that went to the database (tests read it).
func (c *TokenCache) Misses() int64 { return c.misses.Load() }

// Len is the number of sessions cached.
func (c *TokenCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions == nil {
		return 0
	}
	return c.sessions.Len()
}

// SessionsChanged evicts the sessions of the users (a change of theirs has committed).
func (c *TokenCache) SessionsChanged(userIDs []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	if c.sessions == nil {
		return
	}
	for _, id := range userIDs {
		for key := range c.byUser[id] {
			c.sessions.Remove(key) // forget deletes it from byUser
		}
	}
}

// SessionsResync empties the cache and trusts it again: notifications are heard (again), and
// what changed while they were not is read afresh.
func (c *TokenCache) SessionsResync() { c.flush(true) }

// SessionsUnheard empties the cache and bypasses it until SessionsResync: changes made now
// might not be heard.
func (c *TokenCache) SessionsUnheard() { c.flush(false) }

func (c *TokenCache) flush(heard bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	c.heard = heard
	if c.sessions != nil {
		c.sessions.Purge()
	}
}
