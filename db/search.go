package db

import (
	"strings"

	"tracetrack/apperr"
)

// Search text rules, one home for the bags list, its count and the bags export (and the LIKE
// escaping of every text search, bills included).
const (
	// MaxSearchLength bounds QR search text: no QR is longer.
	MaxSearchLength = 50
	// MinQRSubstring is the shortest "QR contains" text: the trigram index needs 3 characters,
	// and anything shorter would scan every bag.
	MinQRSubstring = 3
)

// QRPrefix normalises "QR starts with" text (trimmed, upper-cased, as QRs are); nil or blank
// is no filter (""). Longer than any QR is BAD_USER_INPUT.
func QRPrefix(text *string) (string, error) {
	return qrSearchText(text, 1)
}

// QRSubstring normalises "QR contains" text like QRPrefix, and needs MinQRSubstring characters.
func QRSubstring(text *string) (string, error) {
	return qrSearchText(text, MinQRSubstring)
}

func qrSearchText(text *string, least int) (string, error) {
	if text == nil {
		return "", nil
	}
	t := strings.ToUpper(strings.TrimSpace(*text))
	if t == "" {
		return "", nil
	}
	if n := len([]rune(t)); n < least || n > MaxSearchLength {
		return "", apperr.New(apperr.BadUserInput, "QR search text must be %d to %d characters, got %d", least, MaxSearchLength, n)
	}
	return t, nil
}

// MaxBillSearchLength bounds bill search text: no bill number or destination is longer, and
// a longer pattern cost the trigram match seconds of a pooled connection and a core.
const MaxBillSearchLength = MaxBillDestinationLen

// CheckBillSearch refuses bill search text (bill number or destination contains it) longer
// than any bill number or destination.
func CheckBillSearch(text *string) error {
	if text == nil {
		return nil
	}
	if n := len([]rune(strings.TrimSpace(*text))); n > MaxBillSearchLength {
		return apperr.New(apperr.BadUserInput, "bill search text has at most %d characters (the longest bill number or destination), got %d",
			MaxBillSearchLength, n)
	}
	return nil
}

// likePattern escapes LIKE's wildcards in user text, so % and _ match themselves.
func likePattern(text string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
}

// prefixPattern is the LIKE pattern of text at the start.
func prefixPattern(text string) string {
	return likePattern(text) + "%"
}

// containsPattern is the LIKE pattern of text anywhere.
func containsPattern(text string) string {
	return "%" + likePattern(text) + "%"
}
