package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"time"

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
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return config{}, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if _, err := time.LoadLocation(cfg.BusinessTimeZone); err != nil {
		return config{}, fmt.Errorf("BUSINESS_TIME_ZONE %q: %w", cfg.BusinessTimeZone, err)
	}
	if cfg.ChildrenPerParent < 1 || cfg.ChildrenPerParent > 1000 {
		return config{}, fmt.Errorf("CHILDREN_PER_PARENT must be 1-1000, got %d", cfg.ChildrenPerParent)
	}
	return cfg, nil
}

func (c config) resolverConfig() resolvers.Config {
	loc, _ := time.LoadLocation(c.BusinessTimeZone) // checked by loadConfig
	return resolvers.Config{
		TokenTTL:          c.TokenTTL,
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
