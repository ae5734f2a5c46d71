// Package scalar holds the input rules of the API's scalars, shared by the GraphQL scalars
// (graph/model) and the CSV exports' query parameters, so a Time or a string is accepted or
// refused the same way on every path.
package scalar

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Invalid is a value a scalar refuses. Problem completes a sentence whose subject is the
// value's name ("createdAfter " + Problem), so each caller names the value as its client knows it.
type Invalid struct{ Problem string }

func (e *Invalid) Error() string { return "the value " + e.Problem }

func invalid(format string, args ...any) *Invalid {
	return &Invalid{Problem: fmt.Sprintf(format, args...)}
}

// TimeFormat says what a Time accepts (the contract's words).
const TimeFormat = "an RFC 3339 date-time with a zone, such as 2026-12-01T09:30:00Z or 2026-12-01T15:00:00+05:30"

// ParseTime reads an RFC 3339 date-time with a zone ("Z" or an offset), fractions of a second
// allowed. A date alone, a time without a zone or any other text is refused: guessing a zone
// would silently shift a report window by hours.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid("must be %s, got %s", TimeFormat, Quote(s))
	}
	if _, offset := t.Zone(); offset <= -maxZoneOffset || offset >= maxZoneOffset {
		// RFC 3339 allows offsets up to 23:59, PostgreSQL refuses 16 hours and more (and no
		// place uses more than 14): the instant is what counts, so such a time is sent in UTC.
		t = t.UTC()
	}
	return t, nil
}

// maxZoneOffset is the first zone offset, in seconds, PostgreSQL cannot take.
const maxZoneOffset = 16 * 60 * 60

// CheckText refuses strings PostgreSQL cannot store (a NUL character) or that are not UTF-8
// text. Every string argument passes here before anything else sees it.
func CheckText(s string) error {
	if !utf8.ValidString(s) {
		return invalid("must be UTF-8 text; it holds bytes that are not")
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return invalid("must not contain the NUL character (\\u0000, found at byte %d); remove it and send the text again", i)
	}
	return nil
}

// Int range: GraphQL's Int is a signed 32-bit integer, which is also what every integer
// column of the database holds.
const (
	MinInt = math.MinInt32
	MaxInt = math.MaxInt32
)

// IntRange says what an Int accepts.
const IntRange = "must be a whole number between -2147483648 and 2147483647 (a GraphQL Int)"

// CheckInt refuses integers outside GraphQL's Int range.
func CheckInt(n int64) (int, error) {
	if n < MinInt || n > MaxInt {
		return 0, invalid("%s, got %d", IntRange, n)
	}
	return int(n), nil
}

// Quote shows a client's value in a message, cut short so a huge value cannot flood it.
func Quote(s string) string {
	const most = 64
	if len(s) > most {
		cut := most
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// A is the noun with its indefinite article, for messages naming a type: "a Bag", "an Area",
// "an ImportJob".
func A(noun string) string {
	if noun != "" && strings.ContainsRune("AEIOUaeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// Describe names the JSON kind of a decoded value for a message ("a number", "an object").
func Describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "the string " + Quote(v)
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case fmt.Stringer:
		return "the number " + v.String()
	case int, int32, int64, float64:
		return fmt.Sprintf("the number %v", v)
	}
	// typed values a decoder or coercion made: named by their JSON kind, never a Go type
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("the value %v", v)
}

// DateFormat says what a Date accepts (the schema's words).
const DateFormat = "a calendar date YYYY-MM-DD, such as 2026-12-01"

// Date is a calendar day, without a zone: which instants it covers is the business time
// zone's to say (db.DayWindow).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads exactly YYYY-MM-DD of a day that exists (2026-02-30 is refused); a
// date-time, a zone, spaces or any other text are refused rather than guessed at.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, invalid("must be %s, got %s", DateFormat, Quote(s))
	}
	return DateOf(t), nil
}

// DateOf is the calendar day of t in t's own location.
func DateOf(t time.Time) Date {
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// String writes the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}
