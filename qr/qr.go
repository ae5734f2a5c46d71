// Package qr normalises and classifies the codes that scanners send. Pure functions: no I/O.
//
// Scanners in keyboard-wedge mode send what is printed on the label, with the noise of the
// channel: surrounding spaces, a carriage return, zero-width characters from copy-paste,
// lower case, and for child labels often the printed text "LABEL NO.0016586" or
// "LABEL NO.:0016586" whose label number is the code.
package qr

import (
	"regexp"
	"strings"
	"unicode"
)

// Kind is what a normalised code can be.
type Kind int

const (
	// Invalid is neither a parent nor a child code.
	Invalid Kind = iota
	// Parent is a code of a label series in use (SB + 5 digits, M444- + 5 digits, ...).
	Parent
	// Child is 4-20 of A-Z and 0-9, and of no label series.
	Child
)

var (
	childPattern = regexp.MustCompile(`^[A-Z0-9]{4,20}$`)
	// labelPrefix matches the printed "LABEL NO." with an optional colon and spaces.
	labelPrefix = regexp.MustCompile(`^LABEL\s*NO\.?\s*:?\s*`)
)

// MaxInputLength bounds what Normalize keeps of a code once its invisible characters are gone:
// no real code is longer, and what is compared and quoted stays small.
const MaxInputLength = 256

// Normalize returns the code a scanner meant: control and zero-width characters removed,
// trimmed, upper-cased, and a "LABEL NO." prefix dropped. Normalize(Normalize(s)) ==
// Normalize(s).
func Normalize(raw string) string {
	code := Clean(raw)
	for {
		stripped := strings.TrimSpace(labelPrefix.ReplaceAllString(code, ""))
		if stripped == code {
			return code
		}
		code = stripped
	}
}

// Clean is what every scanned or typed code goes through (QRs and bill numbers alike):
// control and zero-width characters removed, trimmed, upper-cased, so that two codes that
// look the same on a label or a screen are the same code.
func Clean(raw string) string {
	// The invisible characters go before the input is cut short, so that no run of them,
	// however long, can push the code out of what is looked at; what arrives is already
	// bounded by the request body limit.
	cleaned := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isInvisible(r) {
			return -1
		}
		return r
	}, raw)
	cleaned = strings.TrimSpace(cleaned)
	if len(cleaned) > MaxInputLength {
		cleaned = cleaned[:MaxInputLength]
	}
	return strings.ToUpper(cleaned)
}

// isInvisible reports zero-width and other format characters (category Cf: ZWSP, ZWJ, BOM...)
// and the replacement character left by invalid UTF-8.
func isInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar
}
