package qr

import (
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
	for _, seed := range []string{"SB00860", "  label no.:0016586\r", "m444-00012", "\u200b", "LABEL NO.LABEL NO.1234", "\xff\xfe"} {
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
