// Command seed fills a TraceTrack database with realistic data at a given size:
//
//	go run ./cmd/seed -database-url URL -bags N -password P
//
// Ten areas, a few hundred users (disp_<area>_<n>, biller_<n>, admin_<n>, all with password
// P), parent bags of 30 children (some partial, some empty), bills of 20-100 parents in
// every status, the scan log that matches, and every counter consistent (the integrity
// check passes). Rows go in with COPY while triggers and secondary indexes are off; the
// indexes are rebuilt and the counters recounted at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg config
	flag.StringVar(&cfg.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL of the database to fill (migrated here if needed)")
	flag.IntVar(&cfg.Bags, "bags", 100_000, "bags to create, parents and children together")
	flag.StringVar(&cfg.Password, "password", "", "password of every seeded user (required)")
	flag.Int64Var(&cfg.Seed, "seed", 1, "random seed, for reproducible data")
	flag.Parse()
	if cfg.DatabaseURL == "" || cfg.Password == "" {
		flag.Usage()
		return fmt.Errorf("-database-url and -password are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	started := time.Now()
	if err := seed(ctx, cfg, os.Stdout); err != nil {
		return err
	}
	fmt.Printf("done in %s\n", time.Since(started).Round(time.Second))
	return nil
}

type config struct {
	DatabaseURL string
	Bags        int
	Password    string
	Seed        int64
}
