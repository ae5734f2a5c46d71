package qr

import (
	"fmt"
	"strings"

	"tracetrack/internal/scalar"
)

// Series is a run of parent labels: a prefix followed by exactly Digits digits (SB + 5:
// SB00860). Migration 00014 holds the same format rules as constraints.
type Series struct {
	Prefix string
	Digits int
}

// The bounds of a series: a prefix starts with a letter (a prefix of digits would make
// parents that look like the printed child label numbers) and goes on in letters, digits and
// hyphens; the whole code stays within the 20 characters of the longest child QR.
const (
	MaxPrefixLength = 10
	MinDigits       = 3
	MaxDigits       = 15
	MaxSeriesLength = 20
)

// DefaultSeries are the series of SPEC.md every database starts with: SB + 5 digits
// (mustard) and M444- + 5 digits (moong).
var DefaultSeries = []Series{{"SB", 5}, {"M444-", 5}}

// NewSeries cleans the prefix (as a scanned code is cleaned) and checks the series' format,
// returning an error a person can act on.
func NewSeries(prefix string, digits int) (Series, error) {
	s := Series{Prefix: Clean(prefix), Digits: digits}
	switch {
	case s.Prefix == "":
		return s, fmt.Errorf("the prefix is empty; give the letters printed before the digits, e.g. SB")
	// the characters before the length, so the length is counted in characters a person
	// counts (each is one byte once they are A-Z, digits and hyphens); a prefix Clean cut
	// short is longer than the count it has now, so none is quoted
	case s.Prefix[0] < 'A' || s.Prefix[0] > 'Z':
		return s, fmt.Errorf("the prefix %s must start with a letter A-Z (digits-only codes are child labels)", scalar.Quote(s.Prefix))
	case strings.IndexFunc(s.Prefix, func(r rune) bool { return !isUpperAlnum(r) && r != '-' }) >= 0:
		return s, fmt.Errorf("the prefix %s may hold only letters A-Z, digits and hyphens", scalar.Quote(s.Prefix))
	case len(s.Prefix) > MaxPrefixLength:
		return s, fmt.Errorf("the prefix %s is too long: at most %d characters", scalar.Quote(s.Prefix), MaxPrefixLength)
	case digits < MinDigits || digits > MaxDigits:
		return s, fmt.Errorf("digits is %d; a series has %d to %d digits", digits, MinDigits, MaxDigits)
	case len(s.Prefix)+digits > MaxSeriesLength:
		return s, fmt.Errorf("%s + %d digits makes %d-character QRs; at most %d (shorten the prefix or use fewer digits)",
			s.Prefix, digits, len(s.Prefix)+digits, MaxSeriesLength)
	}
	return s, nil
}

func isUpperAlnum(r rune) bool { return (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Matches reports whether the normalised code belongs to the series.
func (s Series) Matches(code string) bool {
	return len(code) == len(s.Prefix)+s.Digits && strings.HasPrefix(code, s.Prefix) && isDigits(code[len(s.Prefix):])
}

// Overlaps reports whether some code would belong to both series: same length, and the
// longer prefix goes on from the shorter one in digits only (SB + 7 and SB1 + 6; a duplicate).
func (s Series) Overlaps(other Series) bool {
	if len(s.Prefix)+s.Digits != len(other.Prefix)+other.Digits {
		return false
	}
	short, long := s.Prefix, other.Prefix
	if len(short) > len(long) {
		short, long = long, short
	}
	return strings.HasPrefix(long, short) && isDigits(long[len(short):])
}

// String reads "SB + 5 digits".
func (s Series) String() string { return fmt.Sprintf("%s + %d digits", s.Prefix, s.Digits) }

// Example is the series' first label after zero: SB00001.
func (s Series) Example() string { return fmt.Sprintf("%s%0*d", s.Prefix, s.Digits, 1) }

// Rules classify codes against the label series in use. The zero value knows no series: every
// code is a child or invalid.
type Rules struct {
	series []Series
}

// NewRules returns the rules of the series, in the order given (the order messages name them).
func NewRules(series []Series) Rules { return Rules{series: append([]Series(nil), series...)} }

// Series returns the series the rules know.
func (r Rules) Series() []Series { return append([]Series(nil), r.series...) }

// Classify tells what a normalised code is.
func (r Rules) Classify(code string) Kind {
	for _, s := range r.series {
		if s.Matches(code) {
			return Parent
		}
	}
	if isChildCode(code) {
		return Child
	}
	return Invalid
}

// ParentFormats names the parent series: "SB + 5 digits (SB00001) or M444- + 5 digits (M444-00001)".
func (r Rules) ParentFormats() string {
	names := make([]string, len(r.series))
	for i, s := range r.series {
		names[i] = fmt.Sprintf("%s (%s)", s, s.Example())
	}
	switch len(names) {
	case 0:
		return "no parent label series is set up (an admin adds one with createLabelSeries)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Describe names the accepted formats, for error messages.
func (r Rules) Describe() string {
	return "a parent QR is " + r.ParentFormats() +
		"; a child QR is 4-20 letters or digits (0016586, or the label text LABEL NO.0016586)"
}
