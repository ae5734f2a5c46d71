package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"tracetrack/app"
	"tracetrack/auth"
	"tracetrack/export"
	"tracetrack/internal/commalist"
	"tracetrack/pgboot"
	"tracetrack/resolvers"
)

// config is read from flags, then environment variables, then defaults (in that order of
// precedence). Every setting is declared once, in settings: its variable, default, accepted
// values and meaning; the parser, -help and the README's configuration table come from there
// (TestREADMEConfigurationTable keeps the README in step).
type config struct {
	DatabaseURL       string
	ListenAddr        string
	TokenTTL          time.Duration
	AdminPassword     string
	Introspection     bool
	FastReads         bool
	LogLevel          slog.Level
	LogFormat         string
	MaxDBConns        int
	BcryptCost        int
	HashWorkers       int
	ChildrenPerParent int
	KgPerChild        float64
	BusinessTimeZone  *time.Location
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
	TokenCacheSize    int
	GC                gcSettings
	Imports           app.ImportOptions
	EPCISURIBase      string
}

// setting is one configuration value. Its flag is the variable in lower case with dashes
// (MAX_DB_CONNS: -max-db-conns).
type setting struct {
	env string
	// def is the default, parsed like a given value; "" for an optional setting that is off.
	def string
	// defaultDoc shows a default that is computed or empty (help and README); else `def`.
	defaultDoc string
	usage      string
	value      settingValue
	// secret settings never appear in messages (a typo in a password must not print it).
	secret bool
}

// settingValue parses one setting into its field of config.
type settingValue interface {
	// set stores raw, or says what is wrong with it (without repeating it).
	set(raw string) error
	// accepts says what set takes, for messages, -help and the README.
	accepts() string
}

func (s setting) flagName() string {
	return strings.ReplaceAll(strings.ToLower(s.env), "_", "-")
}

func (s setting) defaultText() string {
	if s.defaultDoc != "" {
		return s.defaultDoc
	}
	return "`" + s.def + "`"
}

// safeBcryptCost is the least cost that makes guessing slow; lower is for tests.
const safeBcryptCost = 10

// settings binds every setting to its field of cfg.
func settings(cfg *config) []setting {
	rate := app.DefaultRateLimits()
	limits := app.DefaultLimits()
	exports := export.DefaultLimits()
	hashWorkers := max(1, runtime.NumCPU()/2)
	return []setting{
		{env: "DATABASE_URL", defaultDoc: "local PostgreSQL, database `tracetrack`", secret: true,
			usage: "PostgreSQL URL; a missing database is created when the user may",
			value: optional{postgresURL{&cfg.DatabaseURL}, "empty (the local PostgreSQL)"}},
		{env: "LISTEN_ADDR", def: ":8080", usage: "HTTP listen address",
			value: listenAddr{&cfg.ListenAddr}},
		{env: "TOKEN_TTL", def: "12h", usage: "bearer token lifetime",
			value: durationIn{&cfg.TokenTTL, time.Minute, 30 * 24 * time.Hour}},
		{env: "ADMIN_PASSWORD", defaultDoc: "generated, printed once", secret: true,
			usage: "password of `admin`, created on the first start",
			value: optional{adminPassword{&cfg.AdminPassword}, "empty (generated)"}},
		{env: "INTROSPECTION", def: "true", usage: "serve GraphQL introspection",
			value: boolean{&cfg.Introspection}},
		{env: "FAST_READS", def: "true", usage: "execute the commonest read queries (bags, bills and scans with their lists) without gqlgen's field execution, byte for byte the same answers (false: gqlgen executes every operation)",
			value: boolean{&cfg.FastReads}},
		{env: "LOG_LEVEL", def: "info", usage: "least important log lines written",
			value: logLevel{&cfg.LogLevel}},
		{env: "LOG_FORMAT", def: "text", usage: "log line format",
			value: oneOf{&cfg.LogFormat, []string{"text", "json"}}},
		{env: "MAX_DB_CONNS", def: "20", usage: "most open database connections (each pool: primary, replica)",
			value: wholeNumber[int]{&cfg.MaxDBConns, 1, 1000}},
		{env: "BCRYPT_COST", def: strconv.Itoa(safeBcryptCost), usage: "bcrypt cost of password hashes (below 10 is cheap to guess, for tests only, and warned about; above 14 a login takes seconds)",
			value: wholeNumber[int]{&cfg.BcryptCost, bcrypt.MinCost, 14}},
		{env: "HASH_WORKERS", def: strconv.Itoa(hashWorkers), defaultDoc: "half the cores",
			usage: "password hashes computed at once",
			value: wholeNumber[int]{&cfg.HashWorkers, 1, 256}},
		{env: "CHILDREN_PER_PARENT", def: "30", usage: "most children in a parent bag",
			value: wholeNumber[int]{&cfg.ChildrenPerParent, 1, 1000}},
		{env: "KG_PER_CHILD", def: "1", usage: "weight of a child bag in kg",
			value: decimalIn{&cfg.KgPerChild, 0.001, 1000, false}},
		{env: "BUSINESS_TIME_ZONE", def: "Asia/Kolkata", usage: `time zone of the business day ("scans today")`,
			value: timeZone{&cfg.BusinessTimeZone}},
		{env: "SHUTDOWN_TIMEOUT", def: "20s", usage: "how long in-flight requests may finish after SIGTERM",
			value: durationIn{&cfg.ShutdownTimeout, time.Second, 10 * time.Minute}},
		{env: "EMBEDDED_PG_DIR", def: pgboot.DefaultDir(workingDir()),
			defaultDoc: "a folder per checkout in the system's temporary directory (`tracetrack-pg-<folder>-<hash>`)",
			usage:      "data folder of the private PostgreSQL, used only when none runs locally; the postgres user must be able to reach it when run as root",
			value:      folder{&cfg.EmbeddedPGDir}},
		{env: "DATABASE_READ_URL", defaultDoc: "none", secret: true,
			usage: "read replica for lists, summaries and stats",
			value: optional{postgresURL{&cfg.DatabaseReadURL}, "empty (off)"}},
		{env: "STATEMENT_TIMEOUT", def: "5s", usage: "PostgreSQL `statement_timeout` of every pooled connection (migrations run without it)",
			value: durationIn{&cfg.StatementTimeout, 10 * time.Millisecond, time.Hour}},
		{env: "REQUEST_TIMEOUT", def: "10s", usage: "most time a plain HTTP request may take, waiting for a pooled connection included",
			value: durationIn{&cfg.RequestTimeout, 100 * time.Millisecond, 10 * time.Minute}},
		{env: "LOGIN_TIMEOUT", def: "120s", usage: "how long a login may queue for the password-hashing pool (a login storm is served in turn, not shed)",
			value: durationIn{&cfg.LoginTimeout, time.Second, time.Hour}},
		{env: "RATE_LIMIT_USER", def: ftoa(rate.UserPerSecond), usage: "requests per second per signed-in user",
			value: decimalIn{&cfg.RateLimits.UserPerSecond, 0, 100_000, true}},
		{env: "RATE_LIMIT_USER_BURST", def: strconv.Itoa(rate.UserBurst), usage: "requests a signed-in user may make at once above the rate",
			value: wholeNumber[int]{&cfg.RateLimits.UserBurst, 1, 100_000}},
		{env: "RATE_LIMIT_IP", def: ftoa(rate.IPPerSecond), usage: "anonymous requests (login) per second per client IP",
			value: decimalIn{&cfg.RateLimits.IPPerSecond, 0, 100_000, true}},
		{env: "RATE_LIMIT_IP_BURST", def: strconv.Itoa(rate.IPBurst), usage: "anonymous requests a client IP may make at once above the rate",
			value: wholeNumber[int]{&cfg.RateLimits.IPBurst, 1, 100_000}},
		{env: "MAX_COMPLEXITY", def: strconv.Itoa(limits.MaxComplexity), usage: "query complexity: a list field costs `first` x its element",
			value: wholeNumber[int]{&cfg.Limits.MaxComplexity, 1, 100_000_000}},
		{env: "MAX_DEPTH", def: strconv.Itoa(limits.MaxDepth), usage: "selection nesting (edges and node count)",
			value: wholeNumber[int]{&cfg.Limits.MaxDepth, 1, 100}},
		{env: "MAX_FIELDS", def: strconv.Itoa(limits.MaxFields), usage: "field selections after fragments are expanded (alias bombs)",
			value: wholeNumber[int]{&cfg.Limits.MaxFields, 1, 100_000}},
		{env: "MAX_TOKENS", def: strconv.Itoa(limits.MaxTokens), usage: "parser tokens",
			value: wholeNumber[int]{&cfg.Limits.MaxTokens, 1, 1_000_000}},
		{env: "MAX_BODY_BYTES", def: strconv.FormatInt(limits.MaxBodyBytes, 10), usage: "request body in bytes; larger gets HTTP 413",
			value: wholeNumber[int64]{&cfg.Limits.MaxBodyBytes, 1, 1 << 30}},
		{env: "EXPORT_MAX_PER_USER", def: strconv.Itoa(exports.PerUser), usage: "exports (CSV or Excel) one user may run at once; one more gets 429 `RATE_LIMITED`",
			value: wholeNumber[int]{&cfg.Exports.PerUser, 1, 100}},
		{env: "EXPORT_WRITE_TIMEOUT", def: shortDuration(exports.WriteTimeout),
			usage: "most time an export download's client may take nothing; one that stops reading that long loses its download",
			value: durationIn{&cfg.Exports.WriteTimeout, time.Second, time.Hour}},
		{env: "TOKEN_CACHE_SIZE", def: strconv.Itoa(auth.DefaultTokenCacheSize),
			usage: "signed-in sessions each instance keeps in memory, so a request verifies its token without a statement (see **Sessions**); 0 reads every token from the database",
			value: wholeNumber[int]{&cfg.TokenCacheSize, 0, 10_000_000}},
		{env: "GOGC", def: strconv.Itoa(defaultGCPercent),
			usage: "Go's garbage collector target: the heap may grow this many percent over the live heap before a collection (Go's own default is 100; see bench/README.md)",
			value: gcPercent{&cfg.GC.Percent}},
		{env: "GOMEMLIMIT", def: defaultMemoryLimit(), defaultDoc: "3/4 of the container's memory limit (cgroup v2 `memory.max`), else `off`",
			usage: "soft limit of the Go heap: the collector works harder near it, whatever GOGC says",
			value: memoryLimit{&cfg.GC.MemoryLimit}},
		{env: "IMPORT_MAX_BYTES", def: strconv.Itoa(app.DefaultImportMaxBytes),
			usage: "largest file `POST /import` takes, in bytes (streamed to a temporary file, never held in memory); larger gets HTTP 413",
			value: wholeNumber[int64]{&cfg.Imports.MaxBytes, 1, 1 << 40}},
		{env: "EPCIS_URI_BASE", def: export.DefaultEPCISURIBase,
			usage: "base of the identifiers in the EPCIS export (`/export/epcis.jsonld`): bags are `<base>/bag/<QR>`, bills `<base>/bill/<id>`, areas `<base>/area/<code>`; use a domain the business holds",
			value: uriBase{&cfg.EPCISURIBase}},
		{env: "DEBUG_SQL_COUNT", def: "false", usage: "add `extensions.sqlStatements` (SQL statements run) to responses",
			value: boolean{&cfg.DebugSQLCount}},
		{env: "DEBUG_ADDR", defaultDoc: "off",
			usage: "serve Go profiles (`/debug/pprof/`: CPU, heap, goroutine, block and mutex; block and mutex sampling is on only then) on a separate address such as `127.0.0.1:6060`",
			value: optional{listenAddr{&cfg.DebugAddr}, "empty (off)"}},
		{env: "ALLOWED_ORIGINS", defaultDoc: "none",
			usage: "browser origins that may call the HTTP API (CORS: preflight answered, `Authorization` allowed) and open websockets besides the server's own; other origins get no CORS headers and a 403 preflight; requests without `Origin` are always allowed",
			value: origins{&cfg.Websocket.AllowedOrigins}},
		{env: "WS_PING_INTERVAL", def: "10s", usage: "websocket ping interval; a peer silent for two intervals is cut",
			value: durationIn{&cfg.Websocket.PingInterval, time.Second, 10 * time.Minute}},
		{env: "WS_RECHECK_INTERVAL", def: "30s", usage: "how often open websockets re-read their session besides the change notifications (see **Sessions**): expired tokens close 4401",
			value: durationIn{&cfg.Websocket.RecheckInterval, time.Second, time.Hour}},
		{env: "WS_MAX_SUBSCRIPTIONS", def: strconv.Itoa(app.DefaultMaxSubscriptions),
			usage: "most subscriptions one websocket may run at once; the next `subscribe` gets `RATE_LIMITED` (the socket and its other subscriptions go on)",
			value: wholeNumber[int]{&cfg.Websocket.MaxSubscriptions, 1, 1000}},
		{env: "WS_FLUSH_DELAY", def: app.DefaultFlushDelay.String(),
			usage: "the shortest time between two writes of a websocket's live events, so that several go out in one write (fewer system calls per event; an event waits for company at most 3 times this, and only on a socket whose events come within that): reached when the server delivers 20,000 live frames a second or more, in proportion below, so a quiet server writes each event at once (see **Subscriptions**)",
			value: durationIn{&cfg.Websocket.FlushDelay, time.Millisecond, time.Second}},
		{env: "WS_MAX_PER_USER", def: strconv.Itoa(app.DefaultMaxSocketsPerUser),
			usage: "most websockets one user may hold open at once (per instance); the next `connection_init` is closed with 4429 and the reason (graphql-ws clients do not retry it)",
			value: wholeNumber[int]{&cfg.Websocket.MaxPerUser, 1, 100000}},
	}
}

// loadConfig reads every setting from args (flags) and getenv. An empty variable counts as
// unset. Anything malformed or out of range is an error naming the setting, the value and
// what is accepted: nothing falls back to a default or to zero.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	var cfg config
	all := settings(&cfg)
	given, err := parseFlags(args, all)
	if err != nil {
		return config{}, err
	}
	for i, s := range all {
		source, raw := s.pick(given[i], getenv)
		if err := s.value.set(raw); err != nil {
			return config{}, fmt.Errorf("%s: %s %v; use %s", source, s.quote(raw), err, s.value.accepts())
		}
	}
	return cfg, nil
}

// pick returns the setting's text and where it comes from: the flag, else the variable,
// else the default.
func (s setting) pick(flagText *string, getenv func(string) string) (source, raw string) {
	if flagText != nil {
		return "-" + s.flagName(), *flagText
	}
	if v := getenv(s.env); v != "" {
		return s.env, v
	}
	return s.env + " (default)", s.def
}

// quote shows a value in a message, unless it is a secret.
func (s setting) quote(raw string) string {
	if !s.secret {
		return strconv.Quote(raw)
	}
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return strconv.Quote(u.Redacted())
	}
	return "(value hidden)"
}

// parseFlags returns the raw text of each setting's flag, nil where the flag is not given.
// On -help it returns flag.ErrHelp.
func parseFlags(args []string, all []setting) ([]*string, error) {
	fs := flag.NewFlagSet("tracetrack", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; -help is printed by main
	given := make([]*string, len(all))
	for i, s := range all {
		_, isBool := s.value.(boolean)
		fs.Var(&flagText{given: &given[i], isBool: isBool}, s.flagName(), s.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (see -help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: every setting is a flag such as -listen-addr=:8080 (see -help)", fs.Arg(0))
	}
	return given, nil
}

// flagText records a flag's text; settings parse it afterwards, like a variable's.
type flagText struct {
	given  **string
	isBool bool
}

func (f *flagText) String() string {
	if f == nil || f.given == nil || *f.given == nil {
		return ""
	}
	return **f.given
}

func (f *flagText) Set(s string) error { *f.given = &s; return nil }
func (f *flagText) IsBoolFlag() bool   { return f.isBool }

// printUsage writes -help: every setting with its variable, default and what it accepts.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: tracetrack [flags]")
	fmt.Fprintln(w, "Every setting is a flag and an environment variable; flags win, an empty variable is unset.")
	for _, s := range settings(&config{}) {
		fmt.Fprintf(w, "\n  -%s, %s (default: %s)\n      %s\n      accepts: %s\n",
			s.flagName(), s.env, strings.ReplaceAll(s.defaultText(), "`", ""), s.usage, s.value.accepts())
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (c config) resolverConfig() resolvers.Config {
	return resolvers.Config{
		TokenTTL:          c.TokenTTL,
		LoginTimeout:      c.LoginTimeout,
		ChildrenPerParent: c.ChildrenPerParent,
		KgPerChild:        c.KgPerChild,
		BusinessTimeZone:  c.BusinessTimeZone,
	}
}

// tokenCacheSize is TOKEN_CACHE_SIZE as app.Options takes it (there, 0 is the default).
func (c config) tokenCacheSize() int {
	if c.TokenCacheSize == 0 {
		return -1
	}
	return c.TokenCacheSize
}

// workingDir is the checkout `make run` starts in; the private cluster's default folder is
// named after it.
func workingDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	return dir
}

// The kinds of setting values.

type wholeNumber[T int | int64] struct {
	p        *T
	min, max T
}

func (v wholeNumber[T]) set(raw string) error {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return errors.New("is not a whole number")
	}
	if n < int64(v.min) || n > int64(v.max) {
		return errors.New("is out of range")
	}
	*v.p = T(n)
	return nil
}

func (v wholeNumber[T]) accepts() string { return fmt.Sprintf("%d-%d", v.min, v.max) }

type decimalIn struct {
	p        *float64
	min, max float64
	zeroOff  bool // 0 turns the feature off (and is accepted below min)
}

func (v decimalIn) set(raw string) error {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("is not a number")
	}
	if (f < v.min || f > v.max) && !(v.zeroOff && f == 0) {
		return errors.New("is out of range")
	}
	*v.p = f
	return nil
}

func (v decimalIn) accepts() string {
	span := "a number from " + ftoa(v.min) + " to " + ftoa(v.max)
	if v.zeroOff {
		span += " (0: off)"
	}
	return span
}

type durationIn struct {
	p        *time.Duration
	min, max time.Duration
}

func (v durationIn) set(raw string) error {
	d, err := time.ParseDuration(raw)
	if err != nil {
		return errors.New("is not a duration")
	}
	if d < v.min || d > v.max {
		return errors.New("is out of range")
	}
	*v.p = d
	return nil
}

func (v durationIn) accepts() string {
	return fmt.Sprintf("a Go duration (12h, 90m, 1h30m, 30s) from %s to %s", shortDuration(v.min), shortDuration(v.max))
}

// shortDuration writes 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

type boolean struct{ p *bool }

func (v boolean) set(raw string) error {
	switch strings.ToLower(raw) {
	case "true":
		*v.p = true
	case "false":
		*v.p = false
	default:
		return errors.New("is not a boolean")
	}
	return nil
}

func (boolean) accepts() string { return "true or false" }

type oneOf struct {
	p       *string
	options []string
}

func (v oneOf) set(raw string) error {
	for _, o := range v.options {
		if raw == o {
			*v.p = raw
			return nil
		}
	}
	return errors.New("is not one of them")
}

func (v oneOf) accepts() string { return strings.Join(v.options, " or ") }

type logLevel struct{ p *slog.Level }

var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func (v logLevel) set(raw string) error {
	level, ok := logLevels[raw]
	if !ok {
		return errors.New("is not a log level")
	}
	*v.p = level
	return nil
}

func (logLevel) accepts() string { return "debug, info, warn or error" }

type uriBase struct{ p *string }

func (v uriBase) set(raw string) error {
	base, err := export.ParseURIBase(raw)
	if err != nil {
		return err
	}
	*v.p = base
	return nil
}

func (uriBase) accepts() string {
	return "an absolute http or https URL without query or fragment, such as https://tracetrack.example/epcis"
}

type timeZone struct{ p **time.Location }

func (v timeZone) set(raw string) error {
	// "" and "Local" would mean whatever zone the machine is set to
	if raw == "" || raw == "Local" {
		return errors.New("is not a named time zone")
	}
	loc, err := time.LoadLocation(raw)
	if err != nil {
		return errors.New("is not a known time zone")
	}
	*v.p = loc
	return nil
}

func (timeZone) accepts() string { return "an IANA time zone name such as Asia/Kolkata or UTC" }

// postgresURL takes the URL form only: the server names the database in it to create it.
type postgresURL struct{ p *string }

func (v postgresURL) set(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("is not a postgres:// URL")
	}
	if u.Host == "" {
		return errors.New("names no host")
	}
	if strings.Trim(u.Path, "/") == "" || strings.Contains(strings.Trim(u.Path, "/"), "/") {
		return errors.New("names no database")
	}
	if _, err := pq.NewConfig(raw); err != nil {
		return fmt.Errorf("is refused by the driver (%v)", strings.TrimPrefix(err.Error(), "pq: "))
	}
	*v.p = raw
	return nil
}

func (postgresURL) accepts() string {
	return "a URL such as postgres://user:password@host:5432/tracetrack?sslmode=disable (sslmode: disable, allow, prefer, require, verify-ca or verify-full)"
}

// optional lets a value be empty, meaning what whenEmpty says.
type optional struct {
	settingValue
	whenEmpty string
}

func (v optional) set(raw string) error {
	if raw == "" {
		return nil
	}
	return v.settingValue.set(raw)
}

func (v optional) accepts() string { return v.settingValue.accepts() + ", or " + v.whenEmpty }

type listenAddr struct{ p *string }

func (v listenAddr) set(raw string) error {
	_, port, err := net.SplitHostPort(raw)
	if err != nil {
		return errors.New("is not host:port")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errors.New("has no valid port")
	}
	*v.p = raw
	return nil
}

func (listenAddr) accepts() string {
	return "host:port such as :8080 or 127.0.0.1:8080 (port 0: any free port)"
}

type adminPassword struct{ p *string }

func (v adminPassword) set(raw string) error {
	if auth.ValidatePassword(raw) != nil {
		return errors.New("is too weak")
	}
	*v.p = raw
	return nil
}

func (adminPassword) accepts() string { return auth.PasswordRule }

type folder struct{ p *string }

func (v folder) set(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("is empty")
	}
	*v.p = raw
	return nil
}

func (folder) accepts() string { return "a folder path" }

type origins struct{ p *[]string }

func (v origins) set(raw string) error {
	list := commalist.Split(raw)
	for _, o := range list {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return fmt.Errorf("has %q, which is not an origin", o)
		}
	}
	*v.p = list
	return nil
}

func (origins) accepts() string {
	return "comma-separated origins such as https://ops.example.com (scheme://host[:port]), or * for any"
}

// redactURL hides the password of a database URL for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable database URL)"
	}
	return u.Redacted()
}
