package model

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"tracetrack/internal/scalar"
)

// The scalars' input side is strict (gqlgen.yml maps Time, String, ID and Int here): a value
// of the wrong shape is a *scalar.Invalid, which the error presenter turns into
// BAD_USER_INPUT naming the argument. Output is gqlgen's own.

// MarshalTime writes RFC 3339 with fractions of a second, as graphql.MarshalTime does (the
// text needs no JSON escaping), appended into one buffer: gqlgen's formats a string and then
// quotes it into another, for every time of every row.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [len(`"2006-01-02T15:04:05.999999999+07:00"`)]byte
		_, _ = w.Write(append(t.AppendFormat(append(buf[:0], '"'), time.RFC3339Nano), '"'))
	})
}

// UnmarshalTime accepts only an RFC 3339 date-time with a zone.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, &scalar.Invalid{Problem: "must be " + scalar.TimeFormat + ", got " + scalar.Describe(v)}
	}
	return scalar.ParseTime(s)
}

// MarshalString writes a JSON string.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString accepts text PostgreSQL can store: every string argument, at any depth and
// from literals and variables alike, passes here before a resolver or the database sees it.
func UnmarshalString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", &scalar.Invalid{Problem: "must be a string, got " + scalar.Describe(v)}
	}
	return s, scalar.CheckText(s)
}

// MarshalID writes an id as a JSON string.
func MarshalID(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalID accepts a string (or, as GraphQL allows, an integer) holding text; whether it
// is an id this server gave out is the resolvers' decoding.
func UnmarshalID(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, scalar.CheckText(v)
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return v.String(), nil
		}
	case int64:
		return graphql.UnmarshalID(v)
	case int:
		return graphql.UnmarshalID(v)
	}
	return "", &scalar.Invalid{Problem: "must be an ID string this server gave out, got " + scalar.Describe(v)}
}

// MarshalInt writes an integer.
func MarshalInt(n int) graphql.Marshaler { return graphql.MarshalInt(n) }

// UnmarshalInt accepts a whole JSON number in GraphQL's 32-bit Int range, so no integer
// argument can overflow a database column. A number sent as a string is refused, as the
// GraphQL spec says.
func UnmarshalInt(v any) (int, error) {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return scalar.CheckInt(n)
		}
	case int64:
		return scalar.CheckInt(v)
	case int:
		return scalar.CheckInt(int64(v))
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= math.MaxInt32+1 {
			return scalar.CheckInt(int64(v))
		}
	}
	return 0, &scalar.Invalid{Problem: scalar.IntRange + ", got " + scalar.Describe(v)}
}

// MarshalInt64 writes a count (output only: inputs are Int).
func MarshalInt64(n int64) graphql.Marshaler { return graphql.MarshalInt64(n) }

// UnmarshalInt64 is UnmarshalInt widened, for gqlgen's symmetry; no input uses it.
func UnmarshalInt64(v any) (int64, error) {
	n, err := UnmarshalInt(v)
	return int64(n), err
}

// MarshalDate writes YYYY-MM-DD.
func MarshalDate(d scalar.Date) graphql.Marshaler { return graphql.MarshalString(d.String()) }

// UnmarshalDate accepts only YYYY-MM-DD of a day that exists.
func UnmarshalDate(v any) (scalar.Date, error) {
	s, ok := v.(string)
	if !ok {
		return scalar.Date{}, &scalar.Invalid{Problem: "must be " + scalar.DateFormat + ", got " + scalar.Describe(v)}
	}
	return scalar.ParseDate(s)
}
