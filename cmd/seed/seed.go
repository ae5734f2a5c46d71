package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	_ "github.com/lib/pq"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/migrations"
)

// seed fills the database in cfg, reporting progress to out.
func seed(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.Bags > maxBags {
		fmt.Fprintf(out, "note: %d bags is more than the label series of the seed allow (%d parent QRs x (1 + %d children) = %d); seeding %d\n",
			cfg.Bags, parentQRs, childrenPerFull, maxBags, maxBags)
		cfg.Bags = maxBags
	}
	conn, err := sql.Open("postgres", cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(4)
	if err := migrations.Apply(ctx, conn); err != nil {
		return err
	}
	if err := refuseNonEmpty(ctx, conn); err != nil {
		return err
	}
	users, err := createUsers(ctx, conn, cfg.Password, out)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	p := makePlan(cfg.Bags, rand.New(rand.NewPCG(uint64(cfg.Seed), 42)), now)
	fmt.Fprintf(out, "plan: %d parents, %d children, %d bills\n", len(p.parents), p.bags-len(p.parents), len(p.bills))
	if p.needsExtraSeries() {
		if err := addExtraSeries(ctx, conn, out); err != nil {
			return err
		}
	}

	indexes, err := dropSecondaryIndexes(ctx, conn)
	if err != nil {
		return err
	}
	if err := load(ctx, conn, p, users, now, out); err != nil {
		return err
	}
	if err := finish(ctx, conn, indexes, out); err != nil {
		return err
	}
	return checkIntegrity(ctx, cfg.DatabaseURL, out)
}

func refuseNonEmpty(ctx context.Context, conn *sql.DB) error {
	var any bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM bags)`).Scan(&any); err != nil {
		return err
	}
	if any {
		return fmt.Errorf("the database already holds bags; seed only an empty TraceTrack database (drop and recreate it, or point -database-url at a new one)")
	}
	return nil
}

// addExtraSeries adds the label series SB + 7 digits unless it is there; the database refuses
// it should it clash with a child QR.
func addExtraSeries(ctx context.Context, conn *sql.DB, out io.Writer) error {
	_, err := conn.ExecContext(ctx, `
		INSERT INTO label_series (prefix, digits)
		SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM label_series WHERE prefix = $1 AND digits = $2)`,
		extraSeries.prefix, extraSeries.digits)
	if err != nil {
		return fmt.Errorf("add label series %s + %d digits: %w", extraSeries.prefix, extraSeries.digits, err)
	}
	fmt.Fprintf(out, "label series: %s + %d digits for the parents past the default series\n", extraSeries.prefix, extraSeries.digits)
	return nil
}

// seededUsers are the ids of the seeded users by role.
type seededUsers struct {
	dispatchers map[int64][]int64 // by area id
	billers     []int64
}

// createUsers adds 10 active dispatchers per area (disp_<area>_<n>), 15 inactive ones per
// area, 50 billers and 5 admins, all with the same password (hashed once).
func createUsers(ctx context.Context, conn *sql.DB, password string, out io.Writer) (*seededUsers, error) {
	if err := auth.ValidatePassword(password); err != nil {
		return nil, fmt.Errorf("-password: %w", err)
	}
	hash, err := auth.NewHasher(10, 1).Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	_, err = conn.ExecContext(ctx, `
		INSERT INTO users (username, password_hash, role, area_id, active)
		SELECT 'disp_' || a.code || '_' || n, $1, 'DISPATCHER', a.id, n <= 10
		FROM areas a, generate_series(1, 25) n
		UNION ALL SELECT 'biller_' || n, $1, 'BILLER', NULL, true FROM generate_series(1, 50) n
		UNION ALL SELECT 'admin_' || n, $1, 'ADMIN', NULL, true FROM generate_series(1, 5) n
		ON CONFLICT DO NOTHING`, hash)
	if err != nil {
		return nil, fmt.Errorf("create users: %w", err)
	}
	users := &seededUsers{dispatchers: map[int64][]int64{}}
	rows, err := conn.QueryContext(ctx, `
		SELECT id, role, coalesce(area_id, 0) FROM users
		WHERE active AND (username LIKE 'disp\_%' OR username LIKE 'biller\_%') ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, area int64
		var role db.Role
		if err := rows.Scan(&id, &role, &area); err != nil {
			return nil, err
		}
		if role == db.RoleDispatcher {
			users.dispatchers[area] = append(users.dispatchers[area], id)
		} else {
			users.billers = append(users.billers, id)
		}
	}
	fmt.Fprintln(out, "users (password as given): disp_<area>_1..10 active dispatchers per area (disp_<area>_11..25 inactive),")
	fmt.Fprintln(out, "  biller_1..biller_50, admin_1..admin_5; e.g. disp_jaipur_1, biller_1, admin_1")
	return users, rows.Err()
}
