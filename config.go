package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"tracetrack/app"
	"tracetrack/export"
	"tracetrack/internal/commalist"
	"tracetrack/resolvers"
)

// config is read from flags, then environment variables, then defaults (in that order of
// precedence). Every field is listed in the README's configuration table.
type config struct {
	DatabaseURL       string
	ListenAddr        string
	TokenTTL          time.Duration
	AdminPassword     string
	Introspection     bool
	LogLevel          slog.Level
	LogFormat         string
	MaxDBConns        int
	BcryptCost        int
	HashWorkers       int
	ChildrenPerParent int
	KgPerChild        float64
	BusinessTimeZone  string
	ShutdownTimeout   time.Duration
	EmbeddedPGDir     string
	DatabaseReadURL   string
	StatementTimeout  time.Duration
	RequestTimeout    time.Duration
	LoginTimeout      time.Duration
	DebugAddr         string
	RateLimits        app.RateLimits
	Limits            app.Limits
	DebugSQLCount     bool
	Websocket         app.WebsocketOptions
	Exports           export.Limits
}

func loadConfig(args []string, getenv func(string) string) (config, error) {
	env := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	var cfg config
	var logLevel string
	fs := flag.NewFlagSet("tracetrack", flag.ContinueOnError)
	fs.StringVar(&cfg.DatabaseURL, "database-url", env("DATABASE_URL", ""), "PostgreSQL URL (default: local PostgreSQL, database tracetrack)")
	fs.StringVar(&cfg.ListenAddr, "listen-addr", env("LISTEN_ADDR", ":8080"), "HTTP listen address")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", mustDuration(env("TOKEN_TTL", "12h")), "bearer token lifetime")
	fs.StringVar(&cfg.AdminPassword, "admin-password", env("ADMIN_PASSWORD", ""), "password of the admin user created on first start (default: generated and printed once)")
	fs.BoolVar(&cfg.Introspection, "introspection", env("INTROSPECTION", "true") == "true", "serve GraphQL introspection")
	fs.StringVar(&logLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", env("LOG_FORMAT", "text"), "text or json")
	fs.IntVar(&cfg.MaxDBConns, "max-db-conns", mustInt(env("MAX_DB_CONNS", "20")), "most open database connections")
	fs.IntVar(&cfg.BcryptCost, "bcrypt-cost", mustInt(env("BCRYPT_COST", "10")), "bcrypt cost of password hashes")
	fs.IntVar(&cfg.HashWorkers, "hash-workers", mustInt(env("HASH_WORKERS", strconv.Itoa(max(1, runtime.NumCPU()/2)))), "password hashes computed at once")
	fs.IntVar(&cfg.ChildrenPerParent, "children-per-parent", mustInt(env("CHILDREN_PER_PARENT", "30")), "most children in a parent bag")
	fs.Float64Var(&cfg.KgPerChild, "kg-per-child", mustFloat(env("KG_PER_CHILD", "1")), "weight of a child bag in kg")
	fs.StringVar(&cfg.BusinessTimeZone, "business-time-zone", env("BUSINESS_TIME_ZONE", "Asia/Kolkata"), "time zone of the business day (stats 'today')")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", mustDuration(env("SHUTDOWN_TIMEOUT", "20s")), "how long in-flight requests may run after SIGTERM")
	fs.StringVar(&cfg.EmbeddedPGDir, "embedded-pg-dir", env("EMBEDDED_PG_DIR", ".tracetrack-pg"), "data folder of the private PostgreSQL started when no DATABASE_URL is set and none runs locally")
	fs.StringVar(&cfg.DatabaseReadURL, "database-read-url", env("DATABASE_READ_URL", ""), "optional read replica for lists, summaries and stats")
	fs.DurationVar(&cfg.StatementTimeout, "statement-timeout", mustDuration(env("STATEMENT_TIMEOUT", "5s")), "PostgreSQL statement_timeout of every connection")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", env("DEBUG_ADDR", ""), "serve Go profiles (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; off when empty")
	fs.DurationVar(&cfg.LoginTimeout, "login-timeout", mustDuration(env("LOGIN_TIMEOUT", "120s")), "how long a login may queue for the password-hashing pool (a login storm)")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", mustDuration(env("REQUEST_TIMEOUT", "10s")), "most time an HTTP request may take, waiting for a database connection included")
	defaults := app.DefaultRateLimits()
	fs.Float64Var(&cfg.RateLimits.UserPerSecond, "rate-limit-user", mustFloat(env("RATE_LIMIT_USER", ftoa(defaults.UserPerSecond))), "requests per second per signed-in user (0: off)")
	fs.IntVar(&cfg.RateLimits.UserBurst, "rate-limit-user-burst", mustInt(env("RATE_LIMIT_USER_BURST", strconv.Itoa(defaults.UserBurst))), "burst per signed-in user")
	fs.Float64Var(&cfg.RateLimits.IPPerSecond, "rate-limit-ip", mustFloat(env("RATE_LIMIT_IP", ftoa(defaults.IPPerSecond))), "anonymous requests (login) per second per client IP (0: off)")
	fs.IntVar(&cfg.RateLimits.IPBurst, "rate-limit-ip-burst", mustInt(env("RATE_LIMIT_IP_BURST", strconv.Itoa(defaults.IPBurst))), "anonymous burst per client IP")
	limits := app.DefaultLimits()
	fs.IntVar(&cfg.Limits.MaxComplexity, "max-complexity", mustInt(env("MAX_COMPLEXITY", strconv.Itoa(limits.MaxComplexity))), "query complexity limit (list fields cost first x element)")
	fs.IntVar(&cfg.Limits.MaxDepth, "max-depth", mustInt(env("MAX_DEPTH", strconv.Itoa(limits.MaxDepth))), "query depth limit")
	fs.IntVar(&cfg.Limits.MaxFields, "max-fields", mustInt(env("MAX_FIELDS", strconv.Itoa(limits.MaxFields))), "selected fields limit, aliases and fragments included")
	fs.IntVar(&cfg.Limits.MaxTokens, "max-tokens", mustInt(env("MAX_TOKENS", strconv.Itoa(limits.MaxTokens))), "parser token limit")
	fs.Int64Var(&cfg.Limits.MaxBodyBytes, "max-body-bytes", int64(mustInt(env("MAX_BODY_BYTES", strconv.FormatInt(limits.MaxBodyBytes, 10)))), "request body limit (HTTP 413 above)")
	exports := export.DefaultLimits()
	fs.IntVar(&cfg.Exports.PerUser, "export-max-per-user", mustInt(env("EXPORT_MAX_PER_USER", strconv.Itoa(exports.PerUser))), "CSV exports one user may run at once")
	fs.DurationVar(&cfg.Exports.WriteTimeout, "export-write-timeout", mustDuration(env("EXPORT_WRITE_TIMEOUT", exports.WriteTimeout.String())), "most time a CSV download's client may take nothing before the download is cut")
	fs.BoolVar(&cfg.DebugSQLCount, "debug-sql-count", env("DEBUG_SQL_COUNT", "false") == "true", "report SQL statements per request in extensions.sqlStatements")
	var origins string
	fs.StringVar(&origins, "allowed-origins", env("ALLOWED_ORIGINS", ""), "comma-separated browser origins allowed to open websockets besides the server's own (* for any)")
	fs.DurationVar(&cfg.Websocket.PingInterval, "ws-ping-interval", mustDuration(env("WS_PING_INTERVAL", "10s")), "websocket ping interval; a peer silent for two is cut")
	fs.DurationVar(&cfg.Websocket.RecheckInterval, "ws-recheck-interval", mustDuration(env("WS_RECHECK_INTERVAL", "30s")), "how often open websockets re-check their session (changes also apply at once)")
	fs.IntVar(&cfg.Websocket.MaxSubscriptions, "ws-max-subscriptions", mustInt(env("WS_MAX_SUBSCRIPTIONS", strconv.Itoa(app.DefaultMaxSubscriptions))), "most subscriptions one websocket may run at once")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg.Websocket.AllowedOrigins = commalist.Split(origins)
	if err := cfg.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return config{}, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if _, err := time.LoadLocation(cfg.BusinessTimeZone); err != nil {
		return config{}, fmt.Errorf("BUSINESS_TIME_ZONE %q: %w", cfg.BusinessTimeZone, err)
	}
	if cfg.Websocket.MaxSubscriptions < 1 {
		return config{}, fmt.Errorf("WS_MAX_SUBSCRIPTIONS must be a positive whole number, got %d", cfg.Websocket.MaxSubscriptions)
	}
	if cfg.ChildrenPerParent < 1 || cfg.ChildrenPerParent > 1000 {
		return config{}, fmt.Errorf("CHILDREN_PER_PARENT must be 1-1000, got %d", cfg.ChildrenPerParent)
	}
	return cfg, cfg.checkLimits()
}

// checkLimits refuses settings that would make every request fail.
func (c config) checkLimits() error {
	l := c.Limits
	if l.MaxComplexity < 1 || l.MaxDepth < 1 || l.MaxFields < 1 || l.MaxTokens < 1 || l.MaxBodyBytes < 1 {
		return fmt.Errorf("MAX_COMPLEXITY, MAX_DEPTH, MAX_FIELDS, MAX_TOKENS and MAX_BODY_BYTES must be positive")
	}
	if c.Exports.PerUser < 1 || c.Exports.WriteTimeout <= 0 {
		return fmt.Errorf("EXPORT_MAX_PER_USER must be a positive number and EXPORT_WRITE_TIMEOUT a positive duration such as 30s")
	}
	if c.StatementTimeout <= 0 || c.RequestTimeout <= 0 {
		return fmt.Errorf("STATEMENT_TIMEOUT and REQUEST_TIMEOUT must be positive durations such as 5s")
	}
	return nil
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (c config) resolverConfig() resolvers.Config {
	loc, _ := time.LoadLocation(c.BusinessTimeZone) // checked by loadConfig
	return resolvers.Config{
		TokenTTL:          c.TokenTTL,
		LoginTimeout:      c.LoginTimeout,
		ChildrenPerParent: c.ChildrenPerParent,
		KgPerChild:        c.KgPerChild,
		BusinessTimeZone:  loc,
	}
}

// mustDuration and friends parse environment defaults; a malformed value becomes the zero
// value and then fails the range checks with a message naming the variable.
func mustDuration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

func mustInt(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// redactURL hides the password of a database URL for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable database URL)"
	}
	return u.Redacted()
}
