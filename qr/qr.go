// Package qr normalises and classifies the codes that scanners send. Pure functions: no I/O.
//
// Scanners in keyboard-wedge mode send what is printed on the label, with the noise of the
// channel: surrounding spaces, a carriage return, zero-width characters from copy-paste,
// lower case, and for child labels often the printed text "LABEL NO.0016586" or
// "LABEL NO.:0016586" whose label number is the code.
package qr

import (
	"strings"
	"unicode"
	"unicode/utf8"
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

// The two patterns are matched by hand (isChildCode, cutLabelPrefix; qr_test.go checks them
// against these regular expressions): an import of a million rows spent a tenth of its parsing
// in the regexp engine.
//
//	child code:   ^[A-Z0-9]{4,20}$
//	label prefix: ^LABEL\s*NO\.?\s*:?\s*   (the printed "LABEL NO." with an optional colon and spaces)

// isChildCode: 4-20 of A-Z and 0-9.
func isChildCode(code string) bool {
	if len(code) < 4 || len(code) > 20 {
		return false
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// cutLabelPrefix returns code without a leading label prefix, and whether it had one.
func cutLabelPrefix(code string) (string, bool) {
	rest, ok := strings.CutPrefix(code, "LABEL")
	if !ok {
		return code, false
	}
	if rest, ok = strings.CutPrefix(skipSpaces(rest), "NO"); !ok {
		return code, false
	}
	rest = skipSpaces(strings.TrimPrefix(rest, "."))
	return skipSpaces(strings.TrimPrefix(rest, ":")), true
}

// skipSpaces drops leading \s of the regular expressions: tab, newline, form feed, carriage
// return and space.
func skipSpaces(s string) string {
	return strings.TrimLeft(s, "\t\n\f\r ")
}

// MaxInputLength bounds what Normalize keeps of a code once its invisible characters are gone:
// no real code is longer, and what is compared and quoted stays small.
const MaxInputLength = 256

// Normalize returns the code a scanner meant: control and zero-width characters removed,
// trimmed, upper-cased, full-width letters and digits made plain, and a "LABEL NO." prefix
// dropped. Normalize(Normalize(s)) == Normalize(s).
func Normalize(raw string) string {
	code := foldWidth(Clean(raw))
	for {
		stripped, _ := cutLabelPrefix(code)
		// trimmed also without a prefix: a code cut at MaxInputLength may end in a space
		stripped = strings.TrimSpace(stripped)
		if stripped == code {
			return code
		}
		code = stripped
	}
}

// foldWidth makes the full-width forms of ASCII (U+FF01-U+FF5E: "ＳＢ００８６０", and the
// ideographic space U+3000) plain ASCII. A
// keyboard-wedge scanner types through the keyboard's input method, and one left in
// full-width mode (East Asian input methods, some phone keyboards) sends these for a label's
// letters and digits. Only QRs are folded: a QR is ASCII (bags_qr_format), so no stored QR
// can differ from its folded form, while a bill number may hold any letters.
func foldWidth(code string) string {
	if !strings.ContainsFunc(code, isFullWidth) {
		return code
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3000':
			return ' '
		case isFullWidth(r):
			return r - 0xFF01 + '!'
		}
		return r
	}, code)
}

func isFullWidth(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E || r == '\u3000' }

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
	// Upper-cased before the cut (upper-casing may change a character's length in bytes), and
	// cut on a character's start: a code cleaned twice is the code cleaned once.
	cleaned = strings.ToUpper(strings.TrimSpace(cleaned))
	if len(cleaned) > MaxInputLength {
		cut := MaxInputLength
		for cut > 0 && !utf8.RuneStart(cleaned[cut]) {
			cut--
		}
		cleaned = strings.TrimSpace(cleaned[:cut])
	}
	return cleaned
}

// isInvisible reports zero-width and other format characters (category Cf: ZWSP, ZWJ, BOM...)
// and the replacement character left by invalid UTF-8.
func isInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar
}
