package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// load writes bags, bills, links and the scan log with COPY in one transaction. The session
// runs with session_replication_role = replica: no triggers (the counters are recounted once
// at the end) and no foreign-key checks (the plan is consistent by construction).
func load(ctx context.Context, conn *sql.DB, p *plan, users *seededUsers, now time.Time, out io.Writer) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return fmt.Errorf("turn triggers off for the load (needs a superuser): %w", err)
	}
	var billBase int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM bills`).Scan(&billBase); err != nil {
		return err
	}
	progress := newProgress(out, int64(p.bags))
	defer progress.stop()
	w := &writer{ctx: ctx, tx: tx, p: p, users: users, now: now, billBase: billBase, progress: progress}
	for _, step := range []func() error{w.bags, w.bills, w.billLinks, w.scans} {
		if err := step(); err != nil {
			return err
		}
	}
	progress.stop()
	return tx.Commit()
}

// writer streams the plan into COPY statements.
type writer struct {
	ctx      context.Context
	tx       *sql.Tx
	p        *plan
	users    *seededUsers
	now      time.Time
	billBase int64
	progress *progress
	// parentIDs are the bag ids given to the planned parents (children follow their parent).
	parentIDs []int64
}

// copyRows runs one COPY into table, feeding it the rows emit produces.
func (w *writer) copyRows(table string, columns []string, emit func(row func(values ...any) error) error) error {
	stmt, err := w.tx.PrepareContext(w.ctx, pq.CopyIn(table, columns...))
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	defer stmt.Close()
	row := func(values ...any) error {
		_, err := stmt.ExecContext(w.ctx, values...)
		return err
	}
	if err := emit(row); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	if _, err := stmt.ExecContext(w.ctx); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

func (w *writer) creator(area int64, n int) int64 {
	ids := w.users.dispatchers[area]
	return ids[n%len(ids)]
}

func (w *writer) bags() error {
	w.progress.phase("bags")
	columns := []string{"id", "qr", "type", "parent_id", "area_id", "capacity", "child_count", "created_by", "created_at", "updated_at"}
	w.parentIDs = make([]int64, len(w.p.parents))
	return w.copyRows("bags", columns, func(row func(...any) error) error {
		id, child := int64(0), 0
		for i, parent := range w.p.parents {
			id++
			w.parentIDs[i] = id
			by := w.creator(parent.Area, i)
			if err := row(id, parent.QR, "PARENT", nil, parent.Area, childrenPerFull, parent.Children, by, parent.CreatedAt, parent.CreatedAt); err != nil {
				return err
			}
			parentID := id
			for k := range parent.Children {
				id++
				child++
				at := parent.CreatedAt.Add(time.Duration(k+1) * 5 * time.Second)
				if err := row(id, childQR(child), "CHILD", parentID, parent.Area, childrenPerFull, 0, by, at, at); err != nil {
					return err
				}
			}
			w.progress.add(int64(1 + parent.Children))
		}
		return nil
	})
}

func (w *writer) bills() error {
	columns := []string{"id", "bill_number", "destination", "vehicle_number", "capacity", "parent_bag_count",
		"child_bag_count", "completed_at", "created_by", "created_at", "updated_at"}
	destinations := []string{"Delhi", "Mumbai", "Kolkata", "Chennai", "Hyderabad", "Ahmedabad", "Pune", "Nagpur"}
	return w.copyRows("bills", columns, func(row func(...any) error) error {
		for i, b := range w.p.bills {
			children := 0
			for _, pi := range b.Parents {
				children += w.p.parents[pi].Children
			}
			var completed any
			updated := b.CreatedAt
			if b.Completed {
				updated = b.CreatedAt.Add(6 * time.Hour)
				completed = updated
			}
			if err := row(w.billBase+int64(i+1), b.Number, destinations[i%len(destinations)], fmt.Sprintf("RJ%02dGA%04d", i%40, i),
				b.Capacity, len(b.Parents), children, completed, w.users.billers[i%len(w.users.billers)], b.CreatedAt, updated); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *writer) billLinks() error {
	return w.copyRows("bill_bags", []string{"bag_id", "bill_id", "linked_by", "linked_at"}, func(row func(...any) error) error {
		for i, b := range w.p.bills {
			for k, pi := range b.Parents {
				if err := row(w.parentIDs[pi], w.billBase+int64(i+1), w.users.billers[i%len(w.users.billers)],
					b.CreatedAt.Add(time.Duration(k)*time.Minute)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// scans writes the log that matches the bags and bills: PARENT_SCANNED per parent,
// CHILD_LINKED per child, BILL_LINKED per billed parent.
func (w *writer) scans() error {
	w.progress.phase("scan log")
	columns := []string{"kind", "at", "bag_qr", "bag_id", "parent_id", "bill_id", "user_id", "area_id"}
	return w.copyRows("scans", columns, func(row func(...any) error) error {
		child := 0
		for i, parent := range w.p.parents {
			id, by := w.parentIDs[i], w.creator(parent.Area, i)
			if err := row("PARENT_SCANNED", parent.CreatedAt, parent.QR, id, nil, nil, by, parent.Area); err != nil {
				return err
			}
			for k := range parent.Children {
				child++
				at := parent.CreatedAt.Add(time.Duration(k+1) * 5 * time.Second)
				if err := row("CHILD_LINKED", at, childQR(child), id+int64(k+1), id, nil, by, parent.Area); err != nil {
					return err
				}
			}
			w.progress.add(int64(1 + parent.Children))
		}
		for i, b := range w.p.bills {
			for k, pi := range b.Parents {
				parent := w.p.parents[pi]
				if err := row("BILL_LINKED", b.CreatedAt.Add(time.Duration(k)*time.Minute), parent.QR, w.parentIDs[pi], nil,
					w.billBase+int64(i+1), w.users.billers[i%len(w.users.billers)], parent.Area); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// progress prints rows per second while a phase runs.
type progress struct {
	out   io.Writer
	total int64
	done  atomic.Int64
	name  atomic.Value
	quit  chan struct{}
	ended atomic.Bool
}

func newProgress(out io.Writer, total int64) *progress {
	p := &progress{out: out, total: total, quit: make(chan struct{})}
	p.name.Store("")
	go p.report()
	return p
}

func (p *progress) phase(name string) {
	p.name.Store(name)
	p.done.Store(0)
}

func (p *progress) add(n int64) { p.done.Add(n) }

func (p *progress) report() {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	last, lastAt := int64(0), time.Now()
	for {
		select {
		case <-p.quit:
			return
		case now := <-tick.C:
			done := p.done.Load()
			rate := float64(done-last) / now.Sub(lastAt).Seconds()
			if done < last {
				rate = float64(done) / now.Sub(lastAt).Seconds()
			}
			fmt.Fprintf(p.out, "  %-8s %10d / %d rows (%.0f%%), %.0f rows/s\n", p.name.Load(), done, p.total, 100*float64(done)/float64(p.total), rate)
			last, lastAt = done, now
		}
	}
}

func (p *progress) stop() {
	if p.ended.CompareAndSwap(false, true) {
		close(p.quit)
	}
}
