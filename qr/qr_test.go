package qr

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// defaultRules classify as a database with only the default series does.
var defaultRules = NewRules(DefaultSeries)

func TestNormalizeAndClassify(t *testing.T) {
	tests := []struct {
		raw, want string
		kind      Kind
	}{
		{"SB00860", "SB00860", Parent},
		{"  sb00860\r\n", "SB00860", Parent},
		{"m444-00012", "M444-00012", Parent},
		{"SB0086", "SB0086", Child}, // too short for a parent, fine as a child label
		{"SB008600", "SB008600", Child},
		{"M444-0001", "M444-0001", Invalid},
		{"  label no.:0016586\r", "0016586", Child},
		{"LABEL NO.0016586", "0016586", Child},
		{"Label No. : 0016586", "0016586", Child},
		{"00\u200b16586", "0016586", Child},
		{"\ufeff0016586\u200d", "0016586", Child},
		{strings.Repeat("\u200b", 200) + "sb00860", "SB00860", Parent}, // more invisible bytes than MaxInputLength
		{"LABEL NO.\u00a00016586", "0016586", Child},
		{"\u00a0SB00860\u2028", "SB00860", Parent},
		{"abc", "ABC", Invalid},
		{"ABCDEFGHIJKLMNOPQRST", "ABCDEFGHIJKLMNOPQRST", Child},
		{"ABCDEFGHIJKLMNOPQRSTU", "ABCDEFGHIJKLMNOPQRSTU", Invalid},
		{"C-1234", "C-1234", Invalid},
		{"", "", Invalid},
		{"LABEL NO.", "", Invalid},
		// an input method left in full-width mode types the label's letters and digits so
		{"ＳＢ００８６０", "SB00860", Parent},
		{"ｓｂ００８６０\r", "SB00860", Parent},
		{"ＬＡＢＥＬ　ＮＯ．：００１６５８６", "0016586", Child},
		{"Ｍ４４４－０００１２", "M444-00012", Parent},
	}
	for _, tc := range tests {
		got := Normalize(tc.raw)
		if got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.raw, got, tc.want)
		}
		if kind := defaultRules.Classify(got); kind != tc.kind {
			t.Errorf("Classify(%q) = %v, want %v", got, kind, tc.kind)
		}
	}
}

func TestNormalizeBoundsItsWork(t *testing.T) {
	if got := Normalize(strings.Repeat("A", 1<<20)); len(got) > MaxInputLength {
		t.Errorf("Normalize kept %d bytes of a megabyte input", len(got))
	}
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{"SB00860", "  label no.:0016586\r", "m444-00012", "\u200b", "LABEL NO.LABEL NO.1234", "\xff\xfe", "ＬＡＢＥＬ ＮＯ．１２３４", "ｓｂ００８６０"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		once := Normalize(raw)
		if twice := Normalize(once); twice != once {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", raw, once, twice)
		}
		kind := defaultRules.Classify(once)
		if kind != Invalid && (!utf8.ValidString(once) || strings.ContainsAny(once, " \t\r\n")) {
			t.Fatalf("Classify accepted %q", once)
		}
	})
}

// The hand-written matchers agree with the regular expressions they stand for.
func FuzzPatterns(f *testing.F) {
	childPattern := regexp.MustCompile(`^[A-Z0-9]{4,20}$`)
	labelPrefix := regexp.MustCompile(`^LABEL\s*NO\.?\s*:?\s*`)
	for _, seed := range []string{"LABEL NO.0016586", "LABEL NO.:0016586", "LABELNO", "LABEL\tNO :\f1", "LABEL N", "LABE",
		"ABCD", "ABC", "A1B2C3D4E5F6G7H8I9J0", "A1B2C3D4E5F6G7H8I9J0K", "abcd", "AB-CD", "ÄBCD"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isChildCode(s), childPattern.MatchString(s); got != want {
			t.Errorf("isChildCode(%q) = %v, the pattern says %v", s, got, want)
		}
		got, cut := cutLabelPrefix(s)
		if want := labelPrefix.ReplaceAllString(s, ""); got != want || cut != labelPrefix.MatchString(s) {
			t.Errorf("cutLabelPrefix(%q) = %q, %v; the pattern leaves %q", s, got, cut, want)
		}
	})
}
