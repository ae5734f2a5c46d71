package db

import (
	"strings"
	"testing"
	"time"

	"tracetrack/apperr"
)

func TestQRSearchText(t *testing.T) {
	str := func(s string) *string { return &s }
	long := strings.Repeat("9", MaxSearchLength+1)
	for _, tc := range []struct {
		name   string
		fn     func(*string) (string, error)
		in     *string
		want   string
		badArg bool
	}{
		{"prefix nil", QRPrefix, nil, "", false},
		{"prefix blank", QRPrefix, str("   "), "", false},
		{"prefix one char", QRPrefix, str(" s "), "S", false},
		{"prefix too long", QRPrefix, &long, "", true},
		{"substring nil", QRSubstring, nil, "", false},
		{"substring blank", QRSubstring, str("\t"), "", false},
		{"substring too short", QRSubstring, str("ab"), "", true},
		{"substring", QRSubstring, str(" sb0 "), "SB0", false},
		{"substring counts characters, not bytes", QRSubstring, str("éé"), "", true},
		{"substring at the cap", QRSubstring, str(strings.Repeat("a", MaxSearchLength)), strings.Repeat("A", MaxSearchLength), false},
	} {
		got, err := tc.fn(tc.in)
		e, isApp := apperr.As(err)
		if tc.badArg != (err != nil) || (err != nil && (!isApp || e.Code != apperr.BadUserInput)) || got != tc.want {
			t.Errorf("%s: %q, %v; want %q (bad input %v)", tc.name, got, err, tc.want, tc.badArg)
		}
	}
	for in, want := range map[string]string{"SB_1": `SB\_1%`, "50%": `50\%%`, `a\b`: `a\\b%`} {
		if got := prefixPattern(in); got != want {
			t.Errorf("prefixPattern(%q) = %q, want %q", in, got, want)
		}
	}
	if got := containsPattern("A_B"); got != `%A\_B%` {
		t.Errorf("containsPattern = %q", got)
	}
}

func TestBillSearchText(t *testing.T) {
	str := func(s string) *string { return &s }
	for i, tc := range []struct {
		in  *string
		bad bool
	}{
		{nil, false},
		{str("delhi"), false},
		{str(" " + strings.Repeat("é", MaxBillSearchLength) + " "), false},
		{str(strings.Repeat("x", MaxBillSearchLength+1)), true},
	} {
		err := CheckBillSearch(tc.in)
		e, isApp := apperr.As(err)
		if tc.bad != (err != nil) || (err != nil && (!isApp || e.Code != apperr.BadUserInput)) {
			t.Errorf("case %d: CheckBillSearch = %v; want bad input %v", i, err, tc.bad)
		}
	}
}

func TestSummaryWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	day := 24 * time.Hour
	for _, tc := range []struct {
		name       string
		from, to   *time.Time
		start, end time.Time
		bad        bool
	}{
		{"default: the last 7 days", nil, nil, now.Add(-7 * day), now, false},
		{"only to", nil, at(-day), now.Add(-8 * day), now.Add(-day), false},
		{"only from", at(-2 * day), nil, now.Add(-2 * day), now, false},
		{"366 days", at(-366 * day), nil, now.Add(-366 * day), now, false},
		{"367 days", at(-367 * day), nil, time.Time{}, time.Time{}, true},
		{"empty", at(0), at(0), time.Time{}, time.Time{}, true},
		{"reversed", at(day), nil, time.Time{}, time.Time{}, true},
	} {
		start, end, err := SummaryWindow(tc.from, tc.to, now)
		if tc.bad {
			if e, ok := apperr.As(err); !ok || e.Code != apperr.BadUserInput {
				t.Errorf("%s: %v, want BAD_USER_INPUT", tc.name, err)
			}
			continue
		}
		if err != nil || !start.Equal(tc.start) || !end.Equal(tc.end) {
			t.Errorf("%s: [%s, %s) %v; want [%s, %s)", tc.name, start, end, err, tc.start, tc.end)
		}
	}
}
