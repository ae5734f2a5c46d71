package db

import (
	"fmt"
	"strings"
	"time"
)

// conditions builds a WHERE clause with numbered parameters, so list queries can take any
// combination of filters without string-pasting values.
type conditions struct {
	clauses []string
	args    []any
}

// add appends a clause in which each ? stands for the next argument.
func (c *conditions) add(clause string, args ...any) {
	for _, arg := range args {
		c.args = append(c.args, arg)
		clause = strings.Replace(clause, "?", fmt.Sprintf("$%d", len(c.args)), 1)
	}
	c.clauses = append(c.clauses, clause)
}

// where returns " WHERE a AND b" or "".
func (c *conditions) where() string {
	if len(c.clauses) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.clauses, " AND ")
}

// arg adds an argument without a clause and returns its placeholder.
func (c *conditions) arg(v any) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d", len(c.args))
}

// anyOf adds "column = ANY(values)" unless there are no values.
func anyOf[T ~string](c *conditions, column string, values []T) {
	if len(values) == 0 {
		return
	}
	texts := make([]string, len(values))
	for i, v := range values {
		texts[i] = string(v)
	}
	c.add(column+" = ANY(?)", texts)
}

// window adds after <= column < before, for the bounds given.
func (c *conditions) window(column string, after, before *time.Time) {
	if after != nil {
		c.add(column+" >= ?", *after)
	}
	if before != nil {
		c.add(column+" < ?", *before)
	}
}
