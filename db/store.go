// Package db is the store: every SQL statement of TraceTrack lives here, one file per
// aggregate. The store returns domain records and *apperr.Error for rule violations; the
// database constraints decide, and their violations are turned into coded errors here.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tracetrack/apperr"
)

// Store owns the connection pool.
type Store struct {
	db *sqlx.DB
	// replica serves read-only queries (lists, summaries, stats) when configured; writes
	// and reads that must see the caller's own write use db.
	replica *sqlx.DB
	areas   *areaCache
	series  seriesCache
	// exportQueries holds a slot for each export batch query running (db/export.go)
	exportQueries chan struct{}
	// onSessionsChanged hears, on this instance and at once, of the committed writes that
	// change users' sessions (OnSessionsChanged).
	onSessionsChanged func(userIDs []int64)
	// committed are called after each transaction commits (OnCommit).
	committed atomic.Pointer[[]func()]
}

// OnCommit has f called after every transaction of the store commits (and every write
// statement that commits on its own, such as a child batch), in the committing goroutine: the live feed uses it to read the change at once instead of at its next poll.
// f must return at once.
func (s *Store) OnCommit(f func()) {
	for {
		old := s.committed.Load()
		var fs []func()
		if old != nil {
			fs = append(fs, *old...)
		}
		fs = append(fs, f)
		if s.committed.CompareAndSwap(old, &fs) {
			return
		}
	}
}

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, url string, maxOpen int) (*Store, error) {
	connector, err := newCountingConnector(url)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	conn := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	conn.SetMaxOpenConns(maxOpen)
	conn.SetMaxIdleConns(maxOpen)
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return &Store{db: conn, areas: &areaCache{}, exportQueries: make(chan struct{}, exportQuerySlots(maxOpen))}, nil
}

// UseReplica sends read-only queries to a read replica from now on.
func (s *Store) UseReplica(ctx context.Context, url string, maxOpen int) error {
	replica, err := Open(ctx, url, maxOpen)
	if err != nil {
		return fmt.Errorf("store: replica: %w", err)
	}
	s.replica = replica.db
	return nil
}

// reader returns the pool for read-only queries that may lag a little behind writes.
func (s *Store) reader() *sqlx.DB {
	if s.replica != nil {
		return s.replica
	}
	return s.db
}

// DB returns the underlying pool (migrations and health checks use it).
func (s *Store) DB() *sql.DB { return s.db.DB }

// Close closes the pools.
func (s *Store) Close() error {
	if s.replica != nil {
		s.replica.Close()
	}
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// OnSessionsChanged registers fn (before the store serves requests): it is called with the
// user's id after each of the store's transactions that changes a user row or a token
// commits, before the method returns. The NOTIFY of migrations 00011 and 00019 tells every
// instance too, this one included, but milliseconds later: fn lets a cache of sessions on
// this instance forget the user before the write is acknowledged, so the caller's next
// request never meets the old session.
func (s *Store) OnSessionsChanged(fn func(userIDs []int64)) { s.onSessionsChanged = fn }

// inSessionsTx is inTx for a transaction that changes the sessions of the user with the id.
func (s *Store) inSessionsTx(ctx context.Context, userID int64, fn func(tx *sqlx.Tx) error) error {
	err := s.inTx(ctx, fn)
	if s.onSessionsChanged != nil {
		s.onSessionsChanged([]int64{userID}) // also after a failure: the commit's fate may be unknown
	}
	return err
}

// inTx runs fn in a transaction, committing when fn returns nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return wrap(err, "begin transaction")
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrap(err, "commit")
	}
	s.afterCommit()
	return nil
}

// afterCommit calls the OnCommit functions: after a transaction, or a statement that
// committed on its own, changed something.
func (s *Store) afterCommit() {
	if fs := s.committed.Load(); fs != nil {
		for _, f := range *fs {
			f()
		}
	}
}

// PostgreSQL error codes the store turns into domain errors.
const (
	pqUniqueViolation     = "23505"
	pqForeignKeyViolation = "23503"
	pqCheckViolation      = "23514"
)

// constraintName returns the name of the constraint err violated, or "".
func constraintName(err error) (code, constraint string) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return string(pqErr.Code), pqErr.Constraint
	}
	return "", ""
}

// wrap passes *apperr.Error through and wraps anything else once with the store's action;
// the presenter shows wrapped errors as INTERNAL_SERVER_ERROR (or SERVICE_UNAVAILABLE when
// the database cannot be reached).
func wrap(err error, action string) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	// The store checks the freeze under locks before it writes; should a write still reach
	// the database's backstop, the client gets its CONFLICT, which says what to do.
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Constraint == "bills_completed_frozen" {
		return apperr.New(apperr.Conflict, "%s", pqErr.Message)
	}
	// A scan classified its QRs against label series a moment old (a series was added on
	// another instance and its NOTIFY is on the way): the database refused what that got wrong.
	if errors.As(err, &pqErr) && pqErr.Constraint == "bags_qr_format" {
		return apperr.New(apperr.Conflict, "the parent label series changed while this request ran; send it again")
	}
	return fmt.Errorf("store: unable to %s: %w", action, err)
}

// notFoundIfNoRows turns sql.ErrNoRows into a NOT_FOUND error with the given message.
func notFoundIfNoRows(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, format, args...)
	}
	return err
}
