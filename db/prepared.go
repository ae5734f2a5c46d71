package db

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/lib/pq"
)

// preparedPerConn is how many statements each pooled connection keeps prepared. The store's
// statements are a few hundred fixed texts (filters combine into a bounded set), so the hot
// ones stay prepared; the least recently used is closed when a new one needs the room.
const preparedPerConn = 256

// preparedStatements prepares each statement with parameters once per connection and runs
// it from then on with Bind and Execute only: PostgreSQL parses and plans a statement for
// every unnamed Parse, which for the short reads of the hot paths is as much work as running
// them (pgbench over the bag-tree lookup: 2,200 tx/s unprepared, 4,300 prepared; see
// bench/README.md). database/sql hands a connection to one caller at a time, so the cache
// needs no lock. Statements without parameters keep lib/pq's simple query protocol, which
// costs one message.
type preparedStatements struct {
	conn  driver.ConnPrepareContext
	stmts *simplelru.LRU[string, driver.Stmt]
}

func newPreparedStatements(conn driver.ConnPrepareContext) *preparedStatements {
	stmts, _ := simplelru.NewLRU[string, driver.Stmt](preparedPerConn, func(_ string, st driver.Stmt) {
		_ = st.Close()
	}) // fails only for a size <= 0
	return &preparedStatements{conn: conn, stmts: stmts}
}

// get returns the connection's prepared statement of query, preparing it first if needed.
func (p *preparedStatements) get(ctx context.Context, query string) (driver.Stmt, error) {
	if st, ok := p.stmts.Get(query); ok {
		return st, nil
	}
	st, err := p.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts.Add(query, st)
	return st, nil
}

// checked forgets the statement of query when err says PostgreSQL no longer accepts it: a
// migration changed what it reads ("cached plan must not change result type") or the
// statement is gone. The next call prepares it again.
func (p *preparedStatements) checked(query string, err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "0A000" || pqErr.Code == "26000") {
		p.stmts.Remove(query)
	}
	return err
}

func (p *preparedStatements) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := p.get(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	return rows, p.checked(query, err)
}

func (p *preparedStatements) exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := p.get(ctx, query)
	if err != nil {
		return nil, err
	}
	result, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	return result, p.checked(query, err)
}
