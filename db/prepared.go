package db

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// The statements a write runs on every request outside a transaction are prepared: each
// connection of the pool parses one once, and PostgreSQL plans it once per connection (a
// generic plan after its first five runs) instead of on every call. For a child batch, parsing
// and planning were about a third of the database's CPU (pgbench -M extended against
// -M prepared, bench/README.md). Statements in a transaction are not prepared: database/sql
// prepares a statement anew for each transaction it is used in.

// preparedStatements holds the prepared statements by query text.
type preparedStatements struct{ byQuery sync.Map }

// prepared returns the statement of the query, prepared on the primary pool (database/sql
// prepares it again on each connection it runs on, the first time it runs there).
func (s *Store) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if st, ok := s.statements.byQuery.Load(query); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := s.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, wrap(err, "prepare a statement")
	}
	if earlier, loaded := s.statements.byQuery.LoadOrStore(query, st); loaded {
		st.Close()
		return earlier.(*sqlx.Stmt), nil
	}
	return st, nil
}

// selectPrepared runs the prepared query and scans its rows into dest (a slice pointer).
func (s *Store) selectPrepared(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// getPrepared runs the prepared query and scans its one row into dest.
func (s *Store) getPrepared(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}
