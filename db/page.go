package db

import "strconv"

// Page is a keyset page request: up to Limit rows after the row with id AfterID (0: from the
// start) in the list's order. Stores fetch Limit+1 rows and report HasNext.
type Page struct {
	Limit   int
	AfterID int64
}

// trim cuts a result of Limit+1 rows to Limit and reports whether there was another row.
func trim[T any](rows []T, page Page) ([]T, bool) {
	if len(rows) > page.Limit {
		return rows[:page.Limit], true
	}
	return rows, false
}

// limit is the page's LIMIT (Limit+1 rows), written into the statement's text rather than
// bound as a parameter. Prepared statements run on a generic plan only when it costs no more
// than the custom plans of their first executions, and a generic plan must assume a LIMIT
// parameter asks for a tenth of the table: every page of the scans, bags and bills lists was
// planned again at each execution (pg_prepared_statements: custom_plans only; 30-50 us of the
// database's CPU a page, bench/README.md). A literal gives them generic plans, planned once per
// connection. Pages are at most a few hundred rows (pageArgs), so the texts stay few.
func (p Page) limit() string {
	return " LIMIT " + strconv.Itoa(p.Limit+1)
}

// newestFirst bounds a newest-first page below its cursor. A first page with no other
// condition is bounded below every id, so that its statement has a parameter and runs
// prepared (countingConn prepares only those: an unfiltered list would be parsed and planned
// at every execution). Only then: a generic plan takes a bound parameter for a third of the
// rows, which on a filtered list (parents of an area) costs more than custom plans, and
// PostgreSQL goes back to planning it each time.
func (c *conditions) newestFirst(page Page) {
	switch {
	case page.AfterID > 0:
		c.add("id < ?", page.AfterID)
	case len(c.args) == 0:
		c.add("id < ?", maxID)
	}
}
