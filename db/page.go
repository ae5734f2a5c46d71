package db

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
