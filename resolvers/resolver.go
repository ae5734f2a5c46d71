// Package resolvers holds the thin GraphQL resolvers: authorize, call the store or a loader,
// map the result. No SQL and no business rule lives here.
package resolvers

import (
	"time"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/live"
)

// Config is what resolvers need to know about the deployment.
type Config struct {
	TokenTTL time.Duration
	// ChildrenPerParent is the most children a parent bag holds (SPEC: 30).
	ChildrenPerParent int
	// KgPerChild is the weight of one child bag (SPEC: 1 kg).
	KgPerChild float64
	// LoginTimeout is how long a login may wait for the bounded password-hashing pool; a
	// login storm queues there longer than other requests may take (0: the request's own).
	LoginTimeout time.Duration
	// BusinessTimeZone decides what "today" means for stats.
	BusinessTimeZone *time.Location
	// Now is the clock of logins, lockouts and token expiry (nil: time.Now); tests move it.
	Now func() time.Time
}

// Weights are the weight formulas with this deployment's settings.
func (c Config) Weights() db.Weights {
	return db.Weights{KgPerChild: c.KgPerChild, ChildrenPerParent: c.ChildrenPerParent}
}

// Resolver holds the dependencies every resolver reaches; nothing else is global.
type Resolver struct {
	Store  *db.Store
	Hasher *auth.Hasher
	// UnknownUsers keeps the lockouts of usernames that do not exist (auth.UnknownUsers).
	UnknownUsers *auth.UnknownUsers
	Config       Config
	// Live is the event hub of subscriptions.
	Live *live.Hub
}
