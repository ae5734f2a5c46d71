package export

import (
	"sync"
	"time"

	"tracetrack/apperr"
)

// Limits bound what slow or stalled downloads can hold.
type Limits struct {
	// PerUser is how many exports one user may run at once; one more gets 429 RATE_LIMITED.
	PerUser int
	// WriteTimeout is how long the client may take nothing: a client that reads nothing for
	// that long loses its download, which then ends.
	WriteTimeout time.Duration
}

// DefaultLimits let a user run two downloads side by side and give a link that stalls 30
// seconds to recover.
func DefaultLimits() Limits {
	return Limits{PerUser: 2, WriteTimeout: 30 * time.Second}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.PerUser <= 0 {
		l.PerUser = d.PerUser
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	return l
}

// running counts the exports each user has under way.
type running struct {
	limits Limits
	mu     sync.Mutex
	byUser map[int64]int
}

func newRunning(limits Limits) *running {
	return &running{limits: limits, byUser: map[int64]int{}}
}

// begin takes one of the user's export slots, or refuses with RATE_LIMITED when they have
// none left; done gives the slot back.
func (r *running) begin(userID int64) (done func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byUser[userID] >= r.limits.PerUser {
		return nil, apperr.New(apperr.RateLimited,
			"you already have %d exports running, the most allowed at once; wait for one to finish "+
				"(a download that stops reading ends after %s)", r.limits.PerUser, r.limits.WriteTimeout)
	}
	r.byUser[userID]++
	var once sync.Once
	return func() { once.Do(func() { r.end(userID) }) }, nil
}

func (r *running) end(userID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byUser[userID]--; r.byUser[userID] <= 0 {
		delete(r.byUser, userID)
	}
}
