package db

import (
	"context"
	"database/sql/driver"
	"sync/atomic"

	"github.com/lib/pq"
)

// StatementCounter counts the SQL statements run on behalf of one request. Tests read it to
// prove that the number of statements of a query depends on its depth, not on its rows; the
// debug response extension reports it.
type StatementCounter struct{ n atomic.Int64 }

// Count returns how many statements ran so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

type counterKey struct{}

// WithStatementCounter returns ctx carrying a fresh counter that every statement run with a
// context derived from it increments.
func WithStatementCounter(ctx context.Context) (context.Context, *StatementCounter) {
	c := &StatementCounter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

func countStatement(ctx context.Context) {
	if c, ok := ctx.Value(counterKey{}).(*StatementCounter); ok {
		c.n.Add(1)
	}
}

// countingConnector wraps lib/pq's connector so that every query and exec is counted.
type countingConnector struct{ inner driver.Connector }

func newCountingConnector(dsn string) (driver.Connector, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	// Binary parameters send a query with arguments as Parse, Bind and Execute in one round
	// trip; without them lib/pq first waits for Parse/Describe, then sends Bind/Execute. Only
	// []byte arguments change encoding (sent as binary), and only bytea columns take them.
	cfg.BinaryParameters = true
	inner, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return countingConnector{inner: inner}, nil
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{pqConn: conn.(pqConn)}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.inner.Driver() }

// pqConn is the part of lib/pq's connection that database/sql uses.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.Validator
	driver.SessionResetter
	driver.NamedValueChecker
}

type countingConn struct{ pqConn }

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	countStatement(ctx)
	return c.pqConn.QueryContext(ctx, query, args)
}

// PrepareContext counts each run of the prepared statement, not its preparation (once per
// connection). A COPY (pq.CopyIn) is lib/pq's own kind of statement and is not counted.
func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if counted, ok := st.(pqStmt); ok {
		return countingStmt{pqStmt: counted}, nil
	}
	return st, nil
}

// pqStmt is the part of lib/pq's prepared statement that database/sql uses.
type pqStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

type countingStmt struct{ pqStmt }

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	countStatement(ctx)
	return s.pqStmt.QueryContext(ctx, args)
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	countStatement(ctx)
	return s.pqStmt.ExecContext(ctx, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	countStatement(ctx)
	return c.pqConn.ExecContext(ctx, query, args)
}
