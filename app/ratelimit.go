package app

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/metrics"
)

// RateLimits are token buckets (golang.org/x/time/rate): per signed-in user, and per client
// IP for anonymous requests such as login. A zero rate turns that limit off.
type RateLimits struct {
	UserPerSecond float64
	UserBurst     int
	IPPerSecond   float64
	IPBurst       int
}

// DefaultRateLimits leave room for a scanner station's bursts and a login storm from one
// office network, and stop a password guesser long before the lockout would.
func DefaultRateLimits() RateLimits {
	return RateLimits{UserPerSecond: 50, UserBurst: 100, IPPerSecond: 20, IPBurst: 200}
}

// rateLimiter keeps one bucket per key in a bounded LRU, so a flood of distinct keys
// cannot grow memory without bound.
type rateLimiter struct {
	limits  RateLimits
	buckets *lru.Cache[string, *rate.Limiter]
}

func newRateLimiter(limits RateLimits) *rateLimiter {
	buckets, _ := lru.New[string, *rate.Limiter](100_000) // fails only for a size <= 0
	return &rateLimiter{limits: limits, buckets: buckets}
}

// allow takes n tokens from the key's bucket; when there are too few it says how long to
// wait.
func (l *rateLimiter) allow(key string, perSecond float64, burst, n int) (bool, time.Duration) {
	bucket, ok := l.buckets.Get(key)
	if !ok {
		bucket = rate.NewLimiter(rate.Limit(perSecond), burst)
		if found, _ := l.buckets.ContainsOrAdd(key, bucket); found {
			bucket, _ = l.buckets.Get(key)
		}
	}
	reservation := bucket.ReserveN(time.Now(), n)
	delay := reservation.Delay()
	if delay == 0 {
		return true, 0
	}
	reservation.Cancel()
	return false, delay
}

// middleware refuses requests over the caller's rate with 429 and RATE_LIMITED, saying
// when to retry (Retry-After header and extensions.retryAfterSeconds). Websocket upgrades
// pass: they authenticate later, in connection_init, and a wall of dashboards behind one
// address reconnecting after a deploy must not be refused as a login storm would be.
func (l *rateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) || l.take(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// take charges the request to the signed-in user's bucket, or to the client IP's for an
// anonymous request (the session middleware also charges requests with an unknown token
// here, so that forged tokens cannot bypass the limit). When the bucket is empty it answers
// 429 and returns false.
func (l *rateLimiter) take(w http.ResponseWriter, r *http.Request) bool {
	u := auth.UserFrom(r.Context())
	kind, perSecond, burst := "ip", l.limits.IPPerSecond, l.limits.IPBurst
	if u != nil {
		kind, perSecond, burst = "user", l.limits.UserPerSecond, l.limits.UserBurst
	}
	if perSecond <= 0 {
		return true // this limit is off
	}
	key := "ip:" + clientIP(r)
	if u != nil {
		key = "user:" + strconv.FormatInt(u.ID, 10)
	}
	ok, wait := l.allow(key, perSecond, burst, 1)
	if ok {
		return true
	}
	metrics.RateLimited.WithLabelValues(kind).Inc()
	seconds := retrySeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	writeGraphQLError(w, r, nil, apperr.New(apperr.RateLimited,
		"too many requests; retry in %d s", seconds).With("retryAfterSeconds", seconds))
	return false
}

// chargedWrites makes the user's rate limit count writes, not HTTP requests: a mutation takes
// a token for each of its root fields, so 200 aliased scans in one POST cost what 200 POSTs
// cost, and mutations sent over a websocket (whose upgrade the HTTP limit lets pass) cost the
// same as over HTTP. The request's own token, taken by the middleware, pays for its first root
// field.
type chargedWrites struct{ limiter *rateLimiter }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = chargedWrites{}

func (chargedWrites) ExtensionName() string                   { return "ChargedWrites" }
func (chargedWrites) Validate(graphql.ExecutableSchema) error { return nil }

func (c chargedWrites) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	u := auth.UserFrom(ctx)
	limits := c.limiter.limits
	if u == nil || limits.UserPerSecond <= 0 || opCtx.Operation == nil || opCtx.Operation.Operation != ast.Mutation {
		return nil // anonymous mutations (login) pay per request, and onePasswordCheck allows one
	}
	writes := len(graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Mutation"}))
	if writes > limits.UserBurst {
		return requestError(apperr.New(apperr.RateLimited,
			"this operation holds %d mutations; at most %d fit in one (RATE_LIMIT_USER_BURST): send them in smaller operations",
			writes, limits.UserBurst).With("maxMutations", limits.UserBurst))
	}
	unpaid := writes
	if _, overHTTP := ctx.Value(httpMethodKey{}).(string); overHTTP {
		unpaid--
	}
	if unpaid <= 0 {
		return nil
	}
	ok, wait := c.limiter.allow("user:"+strconv.FormatInt(u.ID, 10), limits.UserPerSecond, limits.UserBurst, unpaid)
	if ok {
		return nil
	}
	metrics.RateLimited.WithLabelValues("user").Inc()
	seconds := retrySeconds(wait)
	return requestError(apperr.New(apperr.RateLimited,
		"this operation holds %d mutations, more than your rate allows now; retry in %d s", writes, seconds).
		With("retryAfterSeconds", seconds))
}

// retrySeconds is a bucket's wait in whole seconds, rounded up, as Retry-After and
// extensions.retryAfterSeconds give it.
func retrySeconds(wait time.Duration) int {
	return int(math.Ceil(wait.Seconds()))
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
