package main

import (
	"context"
	"database/sql"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"tracetrack/internal/testdb"
)

func TestSeedSmallDatabasePassesIntegrity(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	ctx := context.Background()
	// seed itself ends with the server's integrity check and fails on any problem
	if err := seed(ctx, config{DatabaseURL: url, Bags: 10_000, Password: "Seed#Pass1", Seed: 7}, io.Discard); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var bags, statuses, dispatchers int
	if err := conn.QueryRow(`SELECT count(*) FROM bags`).Scan(&bags); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(`SELECT count(DISTINCT status) FROM bills`).Scan(&statuses); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(`SELECT sum(active_dispatchers) FROM areas`).Scan(&dispatchers); err != nil {
		t.Fatal(err)
	}
	var future int
	if err := conn.QueryRow(`SELECT (SELECT count(*) FROM scans WHERE at > now()) + (SELECT count(*) FROM bills WHERE completed_at > now() OR created_at > now())`).Scan(&future); err != nil {
		t.Fatal(err)
	}
	if future != 0 {
		t.Errorf("%d scans or bills lie in the future", future)
	}
	// vacuumed, as autovacuum leaves a loaded table: every page of bags and scans all-visible
	var pages, visible int
	if err := conn.QueryRow(`SELECT sum(relpages), sum(relallvisible) FROM pg_class WHERE relname IN ('bags', 'scans')`).Scan(&pages, &visible); err != nil {
		t.Fatal(err)
	}
	if pages == 0 || visible != pages {
		t.Errorf("%d of the %d pages of bags and scans are all-visible; want every one (the seed vacuums)", visible, pages)
	}
	if bags != 10_000 || statuses != 3 || dispatchers != 100 {
		t.Errorf("seeded %d bags, bills in %d statuses, %d active dispatchers; want 10000, 3, 100", bags, statuses, dispatchers)
	}

	err = seed(ctx, config{DatabaseURL: url, Bags: 100, Password: "Seed#Pass1"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "already holds bags") {
		t.Errorf("seeding a database with bags: %v, want a refusal", err)
	}
}

func TestPlanRespectsLimits(t *testing.T) {
	// past the default series' 200,000 parents, so extraSeries numbers some of them
	const bags = 7_000_000
	p := makePlan(bags, rand.New(rand.NewPCG(1, 2)), time.Now())
	if p.bags != bags || len(p.parents) <= defaultParentQRs || !p.needsExtraSeries() {
		t.Errorf("plan has %d bags and %d parents (extra series: %v)", p.bags, len(p.parents), p.needsExtraSeries())
	}
	seen := make(map[string]bool, len(p.parents))
	for _, parent := range p.parents {
		if seen[parent.QR] {
			t.Fatalf("parent QR %s planned twice", parent.QR)
		}
		seen[parent.QR] = true
	}
	for _, b := range p.bills {
		if len(b.Parents) > b.Capacity || (b.Completed && len(b.Parents) == 0) {
			t.Fatalf("bill %s: %d parents, capacity %d, completed %v", b.Number, len(b.Parents), b.Capacity, b.Completed)
		}
	}
	for i, want := range map[int]string{99_999: "SB99999", 100_000: "M444-00000", 199_999: "M444-99999", 200_000: "SB0000000", 200_123: "SB0000123"} {
		if got := parentQR(i); got != want {
			t.Errorf("parentQR(%d) = %s, want %s", i, got, want)
		}
	}
}
