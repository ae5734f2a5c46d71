package scalar

import (
	"strings"
	"testing"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" when refused
	}{
		{"2026-12-01", "2026-12-01"},
		{"2024-02-29", "2024-02-29"}, // a leap day
		{"0001-01-01", "0001-01-01"},
		{"2025-02-29", ""}, // not a leap year
		{"2026-02-30", ""},
		{"2026-13-01", ""},
		{"2026-00-10", ""},
		{"2026-2-01", ""},
		{"2026-02-1", ""},
		{"26-02-01", ""},
		{"+2026-02-01", ""},
		{"2026-02-01T00:00:00Z", ""},
		{"2026-02-01Z", ""},
		{" 2026-02-01", ""},
		{"2026-02-01\n", ""},
		{"2026/02/01", ""},
		{"01-02-2026", ""},
		{"", ""},
		{"２０２６-02-01", ""}, // full-width digits
	} {
		got, err := ParseDate(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseDate(%q) = %s, want it refused", tc.in, got)
		case tc.want == "" && !strings.Contains(err.Error(), "YYYY-MM-DD"):
			t.Errorf("ParseDate(%q): %v, want a message saying YYYY-MM-DD", tc.in, err)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParseDate(%q) = %s, %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseDate: whatever is accepted writes back as exactly the text that was read.
func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{"2026-12-01", "2026-02-30", "2026-1-1", "9999-12-31", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && d.String() != s {
			t.Fatalf("ParseDate(%q) = %s: accepted text must round-trip", s, d)
		}
	})
}
