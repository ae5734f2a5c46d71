package app

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
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

// allow takes a token from the key's bucket; when there is none it says how long to wait.
func (l *rateLimiter) allow(key string, perSecond float64, burst int) (bool, time.Duration) {
	bucket, ok := l.buckets.Get(key)
	if !ok {
		bucket = rate.NewLimiter(rate.Limit(perSecond), burst)
		if found, _ := l.buckets.ContainsOrAdd(key, bucket); found {
			bucket, _ = l.buckets.Get(key)
		}
	}
	reservation := bucket.Reserve()
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
	ok, wait := l.allow(key, perSecond, burst)
	if ok {
		return true
	}
	metrics.RateLimited.WithLabelValues(kind).Inc()
	seconds := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	writeGraphQLError(w, r, nil, apperr.New(apperr.RateLimited,
		"too many requests; retry in %d s", seconds).With("retryAfterSeconds", seconds))
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
