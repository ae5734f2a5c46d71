package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracetrack/pgboot"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's configuration table from the settings")

func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// The defaults parse, and every field is set from them.
func TestDefaults(t *testing.T) {
	cfg, err := loadConfig(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxDBConns != 20 || cfg.TokenTTL != 12*time.Hour || cfg.ListenAddr != ":8080" || !cfg.Introspection ||
		cfg.BusinessTimeZone.String() != "Asia/Kolkata" || cfg.RateLimits.UserPerSecond != 50 || cfg.Limits.MaxFields != 500 ||
		cfg.EmbeddedPGDir != pgboot.DefaultDir(workingDir()) || cfg.DatabaseURL != "" || cfg.Websocket.PingInterval != 10*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
}

// Good values are stored as given; flags win over variables.
func TestGoodValues(t *testing.T) {
	for _, tc := range []struct {
		env   map[string]string
		args  []string
		check func(config) bool
	}{
		{env: map[string]string{"MAX_DB_CONNS": "1"}, check: func(c config) bool { return c.MaxDBConns == 1 }},
		{env: map[string]string{"MAX_DB_CONNS": "1000"}, check: func(c config) bool { return c.MaxDBConns == 1000 }},
		{env: map[string]string{"MAX_DB_CONNS": "5"}, args: []string{"-max-db-conns", "7"}, check: func(c config) bool { return c.MaxDBConns == 7 }},
		{env: map[string]string{"TOKEN_TTL": "1h30m"}, check: func(c config) bool { return c.TokenTTL == 90*time.Minute }},
		{env: map[string]string{"RATE_LIMIT_USER": "0"}, check: func(c config) bool { return c.RateLimits.UserPerSecond == 0 }},
		{env: map[string]string{"RATE_LIMIT_IP": "2.5"}, check: func(c config) bool { return c.RateLimits.IPPerSecond == 2.5 }},
		{env: map[string]string{"INTROSPECTION": "false"}, check: func(c config) bool { return !c.Introspection }},
		{env: map[string]string{"INTROSPECTION": "false"}, args: []string{"-introspection"}, check: func(c config) bool { return c.Introspection }},
		{args: []string{"-debug-sql-count"}, check: func(c config) bool { return c.DebugSQLCount }},
		{env: map[string]string{"LOG_LEVEL": "debug"}, check: func(c config) bool { return c.LogLevel.String() == "DEBUG" }},
		{env: map[string]string{"BUSINESS_TIME_ZONE": "UTC"}, check: func(c config) bool { return c.BusinessTimeZone == time.UTC }},
		{env: map[string]string{"DATABASE_URL": "postgresql://u:p@db.example.com/tt?sslmode=verify-full"}, check: func(c config) bool {
			return c.DatabaseURL == "postgresql://u:p@db.example.com/tt?sslmode=verify-full"
		}},
		{env: map[string]string{"ALLOWED_ORIGINS": "https://ops.example.com, http://localhost:3000/"}, check: func(c config) bool {
			return len(c.Websocket.AllowedOrigins) == 2 && c.Websocket.AllowedOrigins[1] == "http://localhost:3000/"
		}},
		{env: map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}, check: func(c config) bool { return c.ListenAddr == "127.0.0.1:0" }},
		{env: map[string]string{"DEBUG_ADDR": "127.0.0.1:6060"}, check: func(c config) bool { return c.DebugAddr == "127.0.0.1:6060" }},
		{env: map[string]string{"MAX_BODY_BYTES": "2048"}, check: func(c config) bool { return c.Limits.MaxBodyBytes == 2048 }},
		{env: map[string]string{"EPCIS_URI_BASE": "https://id.agro.example/tt/"}, check: func(c config) bool { return c.EPCISURIBase == "https://id.agro.example/tt" }},
		{check: func(c config) bool { return c.EPCISURIBase == "https://tracetrack.example/epcis" }},
		{env: map[string]string{"EMBEDDED_PG_DIR": "/srv/pg"}, check: func(c config) bool { return c.EmbeddedPGDir == "/srv/pg" }},
	} {
		cfg, err := loadConfig(tc.args, envOf(tc.env))
		if err != nil || !tc.check(cfg) {
			t.Errorf("env %v args %v: %v (config %+v)", tc.env, tc.args, err, cfg)
		}
	}
}

// The examples, word for word.
func TestMessagesNameVariableValueAndAccepted(t *testing.T) {
	for env, want := range map[[2]string]string{
		{"MAX_DB_CONNS", "twenty"}:                 `MAX_DB_CONNS: "twenty" is not a whole number; use 1-1000`,
		{"TOKEN_TTL", "12 hours"}:                  `TOKEN_TTL: "12 hours" is not a duration; use a Go duration (12h, 90m, 1h30m, 30s) from 1m to 720h`,
		{"RATE_LIMIT_USER", "fifty"}:               `RATE_LIMIT_USER: "fifty" is not a number; use a number from 0 to 100000 (0: off)`,
		{"RATE_LIMIT_USER", "-5"}:                  `RATE_LIMIT_USER: "-5" is out of range; use a number from 0 to 100000 (0: off)`,
		{"INTROSPECTION", "yes"}:                   `INTROSPECTION: "yes" is not a boolean; use true or false`,
		{"LOG_LEVEL", "verbose"}:                   `LOG_LEVEL: "verbose" is not a log level; use debug, info, warn or error`,
		{"ADMIN_PASSWORD", "weak"}:                 `ADMIN_PASSWORD: (value hidden) is too weak; use 8 to 72 characters`,
		{"DATABASE_URL", "postgres://u:secret@h/"}: `DATABASE_URL: "postgres://u:xxxxx@h/" names no database; use a URL such as`,
	} {
		_, err := loadConfig(nil, envOf(map[string]string{env[0]: env[1]}))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s=%q: %v\nwant %s", env[0], env[1], err, want)
		}
	}
	_, err := loadConfig([]string{"-max-db-conns=0"}, envOf(nil))
	if want := `-max-db-conns: "0" is out of range; use 1-1000`; err == nil || err.Error() != want {
		t.Errorf("flag: %v, want %s", err, want)
	}
}

// Every setting refuses every malformed class of its kind and values out of its range, with
// a message naming the setting, the value (unless secret) and what it accepts. A setting of
// a new kind fails here until its malformed values are listed.
func TestEverySettingRefusesMalformedValues(t *testing.T) {
	for _, s := range settings(&config{}) {
		bad := malformed(t, s.value)
		if len(bad) == 0 {
			t.Errorf("%s: no malformed values listed for %T", s.env, s.value)
		}
		for _, raw := range bad {
			for _, via := range []struct {
				name string
				args []string
				env  map[string]string
			}{
				{s.env, nil, map[string]string{s.env: raw}},
				{"-" + s.flagName(), []string{"-" + s.flagName() + "=" + raw}, nil},
			} {
				if raw == "" && via.args == nil {
					continue // an empty variable is unset
				}
				_, err := loadConfig(via.args, envOf(via.env))
				if err == nil {
					t.Errorf("%s=%q was accepted", via.name, raw)
					continue
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, via.name+": ") || !strings.HasSuffix(msg, "; use "+s.value.accepts()) {
					t.Errorf("%s=%q: %q does not name the setting and what it accepts", via.name, raw, msg)
				}
				if s.secret && strings.Contains(msg, "hunter2") {
					t.Errorf("%s=%q: the message shows the secret: %q", via.name, raw, msg)
				}
				if !s.secret && !strings.Contains(msg, strconv.Quote(raw)) {
					t.Errorf("%s=%q: %q does not quote the value", via.name, raw, msg)
				}
			}
		}
	}
}

// malformed lists, for a kind of value, one value per way it can be wrong.
func malformed(t *testing.T, v settingValue) []string {
	switch v := v.(type) {
	case optional:
		return malformed(t, v.settingValue)
	case wholeNumber[int]:
		return []string{"", "twenty", "1.5", "1e3", "0x10", " 5", strconv.Itoa(v.min - 1), strconv.Itoa(v.max + 1), "99999999999999999999"}
	case wholeNumber[int64]:
		return []string{"", "lots", "1.5", "-1", strconv.FormatInt(v.min-1, 10), strconv.FormatInt(v.max+1, 10)}
	case decimalIn:
		bad := []string{"", "fifty", "NaN", "Inf", "-Inf", "1,5", "-1", ftoa(v.max * 10)}
		if v.min > 0 {
			bad = append(bad, ftoa(v.min/2))
		}
		return bad
	case durationIn:
		return []string{"", "12 hours", "12", "1d", "-1s", (v.min - time.Nanosecond).String(), (v.max + time.Second).String()}
	case boolean:
		return []string{"", "yes", "no", "1", "on", "ture"}
	case oneOf:
		return []string{"", "xml", strings.ToUpper(v.options[0])}
	case logLevel:
		return []string{"", "verbose", "INFO", "info+2", "2"}
	case timeZone:
		return []string{"", "Local", "Mars/Olympus", "+05:30", "IST"}
	case postgresURL:
		// every one carries a password, which no message may show
		return []string{"host=localhost dbname=tracetrack password=hunter2", "mysql://u:hunter2@h/db", "postgres://u:hunter2@/tracetrack",
			"postgres://u:hunter2@h", "postgres://u:hunter2@h/a/b", "postgres://u:hunter2@h/db?sslmode=maybe",
			"postgres://u:hunter2@h:port/db", "::hunter2"}
	case listenAddr:
		return []string{"8080", "localhost", ":http", ":99999", ":-1", "[::1"}
	case adminPassword:
		return []string{"hunter2", "hunter2hunter2!", "Ahunter2hunter2", "AAhunter2"}
	case origins:
		return []string{"ops.example.com", "https://ops.example.com/app", "ftp://ops.example.com", "https://", "https://a,b", "https://a?x=1"}
	case folder:
		return []string{"", " "}
	case uriBase:
		return []string{"", "tracetrack.example/epcis", "urn:tracetrack", "ftp://tracetrack.example", "https://", "https://tracetrack.example/a?b=1",
			"https://tracetrack.example/#ids", "https://tracetrack.example/my ids", "https://u:p@tracetrack.example", "https://tracetrack .example"}
	}
	return nil
}

func TestUnexpectedArgumentsAndFlags(t *testing.T) {
	if _, err := loadConfig([]string{"serve"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), `"serve"`) {
		t.Errorf("a stray argument: %v", err)
	}
	if _, err := loadConfig([]string{"-max-db-con=5"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "max-db-con") {
		t.Errorf("an unknown flag: %v", err)
	}
}

// -help lists every setting with its variable, default and what it accepts.
func TestHelpListsEverySetting(t *testing.T) {
	if _, err := loadConfig([]string{"-help"}, envOf(nil)); err != flag.ErrHelp {
		t.Fatalf("-help: %v", err)
	}
	var help strings.Builder
	printUsage(&help)
	seen := map[string]bool{}
	for _, s := range settings(&config{}) {
		if seen[s.env] {
			t.Errorf("%s is declared twice", s.env)
		}
		seen[s.env] = true
		for _, want := range []string{"-" + s.flagName() + ", " + s.env, s.usage, s.value.accepts()} {
			if !strings.Contains(help.String(), want) {
				t.Errorf("-help lacks %q", want)
			}
		}
	}
}

// The README's configuration table is the settings, row for row: same variables, flags,
// defaults, accepted values and meanings. `go test -run TestREADMEConfigurationTable
// -update-readme .` rewrites it.
func TestREADMEConfigurationTable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	const header = "| variable | flag | default | accepts | meaning |"
	start := strings.Index(readme, header)
	if start < 0 {
		t.Fatalf("README.md has no configuration table starting %q", header)
	}
	end := start + strings.Index(readme[start:], "\n\n")
	var want strings.Builder
	want.WriteString(header + "\n|---|---|---|---|---|\n")
	for _, s := range settings(&config{}) {
		fmt.Fprintf(&want, "| `%s` | `-%s` | %s | %s | %s |\n", s.env, s.flagName(), s.defaultText(), s.value.accepts(), s.usage)
	}
	got := readme[start:end] + "\n"
	if got == want.String() {
		return
	}
	if *updateREADME {
		if err := os.WriteFile("README.md", []byte(readme[:start]+want.String()+readme[end+1:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration table differs from the settings; run go test -run TestREADMEConfigurationTable -update-readme .\nwant:\n%s", want.String())
}
