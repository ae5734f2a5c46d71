// Command loadgen drives a TraceTrack server with virtual users signed in as the seeded
// users (see cmd/seed), each running a closed loop of the field test's operations, and reports
// latency percentiles and errors per operation. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"tracetrack/internal/commalist"
)

const (
	scenarioMix        = "mix"
	scenarioLoginStorm = "login-storm"
	opLoginStorm       = "login-storm"
	// signInConcurrency bounds the logins before the run so that slow password hashing
	// queues in loadgen instead of timing out on the server.
	signInConcurrency = 8
)

// config is everything a run needs; main fills it from flags, tests directly.
type config struct {
	URLs        []string
	Users       int
	Duration    time.Duration
	Password    string
	JSONPath    string
	Mix         []mixEntry
	Scenario    string
	StormUsers  int
	StormAfter  time.Duration
	Subscribers int
	Seeded      seededUsers
	MaxChildren int
	Timeout     time.Duration
	Think       time.Duration
	CPUProfile  string
	endpoints   []endpoint // URLs parsed (run)
	Out         io.Writer  // the report table
	Progress    io.Writer  // one progress line a second
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := profiled(cfg.CPUProfile, func() error { _, err := run(ctx, cfg); return err }); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// profiled runs fn, writing a CPU profile of it to path when path is set: the generator
// shares the cores with what it measures, so its own cost per request is worth seeing.
func profiled(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	cfg := config{Out: os.Stdout, Progress: os.Stderr}
	urls := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint; a comma-separated list spreads users round-robin")
	fs.IntVar(&cfg.Users, "users", 10, "virtual users")
	fs.DurationVar(&cfg.Duration, "duration", 60*time.Second, "how long the loop runs (after the users signed in)")
	fs.StringVar(&cfg.Password, "password", "", "password of every seeded user")
	fs.StringVar(&cfg.JSONPath, "json", "", "also write the report as JSON to this file")
	mix := fs.String("mix", defaultMix, "operation weights, name=weight,... (operations: "+operationNames()+")")
	fs.StringVar(&cfg.Scenario, "scenario", scenarioMix, "mix, or login-storm: dispatchers scan while -storm-users log in at once after -storm-after")
	fs.IntVar(&cfg.StormUsers, "storm-users", 200, "login-storm: users logging in at once")
	fs.DurationVar(&cfg.StormAfter, "storm-after", 5*time.Second, "login-storm: when the storm starts")
	fs.IntVar(&cfg.Subscribers, "subscribers", 0, "websocket scanAdded subscribers measuring event delivery")
	fs.StringVar(&cfg.Seeded.DispatcherPrefix, "dispatcher-prefix", "disp_", "dispatchers are <prefix><area>_<n>")
	fs.StringVar(&cfg.Seeded.BillerPrefix, "biller-prefix", "biller_", "billers are <prefix><n>")
	fs.StringVar(&cfg.Seeded.AdminPrefix, "admin-prefix", "admin_", "admins are <prefix><n>")
	areas := fs.String("areas", "lucknow,indore,jaipur,hisar,sri_ganganagar,sangaria,bathinda,raipur,ranchi,akola", "areas of the seeded dispatchers")
	fs.IntVar(&cfg.Seeded.DispatchersPerArea, "dispatchers-per-area", 10, "seeded dispatchers per area")
	fs.IntVar(&cfg.Seeded.Billers, "billers", 50, "seeded billers")
	fs.IntVar(&cfg.Seeded.Admins, "admins", 5, "seeded admins")
	fs.IntVar(&cfg.MaxChildren, "children-per-parent", 30, "the server's children-per-parent limit")
	fs.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "HTTP request timeout")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the generator itself to this file")
	fs.DurationVar(&cfg.Think, "think", 0, "mean pause of a virtual user between operations (uniform in 0..2x); 0 sends the next request at once")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.URLs = commalist.Split(*urls)
	cfg.Seeded.Areas = commalist.Split(*areas)
	var err error
	if cfg.Mix, err = parseMix(*mix); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

func (cfg config) validate() error {
	switch {
	case len(cfg.URLs) == 0:
		return errors.New("-url is required")
	case cfg.Users < 1 || cfg.Duration <= 0:
		return errors.New("-users and -duration must be positive")
	case cfg.Password == "":
		return errors.New("-password is required")
	case validEndpoints(cfg.URLs) != nil:
		return validEndpoints(cfg.URLs)
	case cfg.Think < 0:
		return errors.New("-think must not be negative")
	case cfg.Scenario != scenarioMix && cfg.Scenario != scenarioLoginStorm:
		return fmt.Errorf("unknown -scenario %q (mix or login-storm)", cfg.Scenario)
	}
	return cfg.Seeded.validate()
}

// run signs the virtual users in, runs the loop (and the storm or subscribers) for the
// duration, then prints the report to cfg.Out, writes cfg.JSONPath and returns the report.
func run(ctx context.Context, cfg config) (report, error) {
	var err error
	if cfg.endpoints, err = parseEndpoints(cfg.URLs); err != nil {
		return report{}, err
	}
	hc := newHTTPClient(cfg.Timeout)
	rec := newRecorder()
	vus, notes, err := signIn(ctx, cfg, hc, rec, newRunState(cfg.MaxChildren))
	if err != nil {
		return report{}, err
	}
	loopCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	started := time.Now()
	done := make(chan struct{})
	go rec.progress(cfg.Progress, started, done)
	// side runs beside the loop and may outlast it (a storm's queued logins); rates are
	// over the loop's time only.
	var loop, side sync.WaitGroup
	var subNotes []string
	if cfg.Subscribers > 0 {
		side.Go(func() { subNotes = subscribe(loopCtx, cfg, hc, rec) })
	}
	if cfg.Scenario == scenarioLoginStorm {
		side.Go(func() { loginStorm(ctx, loopCtx, cfg, hc, rec) })
	}
	for _, vu := range vus {
		loop.Go(func() { vu.loop(loopCtx) })
	}
	loop.Wait()
	elapsed := time.Since(started)
	for _, vu := range vus {
		vu.c.close()
	}
	side.Wait()
	close(done)
	rep := rec.report(elapsed)
	rep.Scenario, rep.Users, rep.ThinkMS = cfg.Scenario, len(vus), float64(cfg.Think)/float64(time.Millisecond)
	rep.Notes = append(notes, subNotes...)
	writeTable(cfg.Out, rep)
	if cfg.JSONPath != "" {
		if err := writeJSON(cfg.JSONPath, rep); err != nil {
			return rep, fmt.Errorf("write %s: %w", cfg.JSONPath, err)
		}
	}
	return rep, nil
}

// signIn logs every virtual user in, a few at a time; users whose login fails are left out
// with a note, and the run fails only when nobody signed in.
func signIn(ctx context.Context, cfg config, hc *httpClient, rec *recorder, state *runState) ([]*virtualUser, []string, error) {
	assigned := cfg.Seeded.assign(cfg.Users, cfg.Scenario == scenarioLoginStorm)
	vus := make([]*virtualUser, len(assigned))
	failures := make([]string, len(assigned))
	sem := make(chan struct{}, signInConcurrency)
	var wg sync.WaitGroup
	for i, a := range assigned {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c := newClient(hc, cfg.endpoints[i%len(cfg.endpoints)])
			start := time.Now()
			role, err := c.login(ctx, a.username, cfg.Password)
			rec.record(opLogin, start, err)
			if err != nil {
				c.close()
				failures[i] = fmt.Sprintf("%s: %v", a.username, err)
				return
			}
			vus[i] = &virtualUser{c: c, rec: rec, run: state, role: role,
				rng: rand.New(rand.NewPCG(rand.Uint64(), uint64(i))), mix: forRole(cfg.Mix, role), think: cfg.Think}
		})
	}
	wg.Wait()
	var ok []*virtualUser
	var notes []string
	for i, vu := range vus {
		switch {
		case vu == nil:
			notes = append(notes, "login failed, user left out: "+failures[i])
		case len(vu.mix) == 0:
			notes = append(notes, fmt.Sprintf("%s (%s) has no operation in the mix, left out", assigned[i].username, vu.role))
		default:
			ok = append(ok, vu)
		}
	}
	if len(ok) == 0 {
		return nil, notes, fmt.Errorf("no virtual user signed in: %s", strings.Join(notes, "; "))
	}
	return ok, notes, nil
}

// loginStorm waits cfg.StormAfter into the loop, then logs cfg.StormUsers users in at once
// (seeded users in turn) and marks the window in which scans count as "-during-storm".
func loginStorm(ctx, loopCtx context.Context, cfg config, hc *httpClient, rec *recorder) {
	select {
	case <-loopCtx.Done():
		return
	case <-time.After(cfg.StormAfter):
	}
	names := cfg.Seeded.all()
	rec.storm.start.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	for i := range cfg.StormUsers {
		wg.Go(func() {
			c := newClient(hc, cfg.endpoints[i%len(cfg.endpoints)])
			start := time.Now()
			_, err := c.login(ctx, names[i%len(names)], cfg.Password)
			rec.record(opLoginStorm, start, err)
			c.close()
		})
	}
	wg.Wait()
	rec.storm.end.Store(time.Now().UnixNano())
}
