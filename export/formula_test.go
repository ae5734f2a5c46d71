package export

import (
	"strings"
	"testing"
)

func TestNeutralize(t *testing.T) {
	for _, tc := range []struct{ cell, want string }{
		{"", ""},
		{"Kota", "Kota"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+91 98", "'+91 98"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"'=1", "'=1"},
		{" =1", " =1"},
		{"a=1", "a=1"},
		{"SB00001", "SB00001"},
		{"2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"},
	} {
		if got := Neutralize(tc.cell); got != tc.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tc.cell, got, tc.want)
		}
	}
}

func FuzzNeutralize(f *testing.F) {
	for _, seed := range []string{"", "=1", "+", "-", "@", "\t", "\r", "plain", "'=x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		got := Neutralize(cell)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("Neutralize(%q) = %q still starts a formula", cell, got)
		}
		if got != cell && got != "'"+cell {
			t.Fatalf("Neutralize(%q) = %q: neither the cell nor the cell behind an apostrophe", cell, got)
		}
		if Neutralize(got) != got {
			t.Fatalf("Neutralize is not idempotent on %q", cell)
		}
	})
}
