package qr

import (
	"strings"
	"testing"
)

func TestClassifyWithAddedSeries(t *testing.T) {
	rules := NewRules(append(DefaultSeries, Series{"SB", 7}, Series{"KH-", 4}))
	tests := []struct {
		code string
		kind Kind
	}{
		{"SB00860", Parent},
		{"M444-00012", Parent},
		{"SB0000001", Parent},  // SB + 7: a child label before the series was added
		{"SB000001", Child},    // 6 digits: no series
		{"SB00000001", Child},  // 8 digits
		{"SB00000A1", Child},   // a letter among the digits
		{"KH-0001", Parent},    // a hyphen only a series can give
		{"KH-00001", Invalid},  // one digit too many, and a hyphen no child has
		{"0016586", Child},     // printed child label numbers stay children
		{"SB", Invalid},        // prefix alone: too short for a child, no digits for a parent
		{"sb0000001", Invalid}, // classification takes normalised codes
	}
	for _, tc := range tests {
		if got := rules.Classify(tc.code); got != tc.kind {
			t.Errorf("Classify(%q) = %v, want %v", tc.code, got, tc.kind)
		}
	}
	if got := (Rules{}).Classify("SB00860"); got != Child {
		t.Errorf("without series SB00860 is %v, want a child", got)
	}
}

func TestNewSeries(t *testing.T) {
	tests := []struct {
		prefix  string
		digits  int
		want    Series
		problem string // a word of the error, "" for none
	}{
		{"SB", 7, Series{"SB", 7}, ""},
		{" sb\u200b ", 7, Series{"SB", 7}, ""},
		{"M444-", 6, Series{"M444-", 6}, ""},
		{"A", 3, Series{"A", 3}, ""},
		{"", 5, Series{}, "empty"},
		{"44", 5, Series{}, "start with a letter"},
		{"-SB", 5, Series{}, "start with a letter"},
		{"S B", 5, Series{}, "only letters"},
		{"SB_", 5, Series{}, "only letters"},
		{"ÄB", 5, Series{}, "start with a letter"},
		{"SB.", 5, Series{}, "only letters"},
		{"ABCDEFGHIJK", 5, Series{}, "at most 10"},
		// full-width letters are 3 bytes each: refused for what they are, not counted in bytes
		{"ＳＢ", 5, Series{}, "start with a letter"},
		{"SBＳＢＳＢ", 5, Series{}, "only letters"},
		{strings.Repeat("A", 10_000), 5, Series{}, "at most 10"},
		{"SB", 2, Series{}, "3 to 15"},
		{"SB", 16, Series{}, "3 to 15"},
		{"ABCDEFGHIJ", 11, Series{}, "at most 20"},
	}
	for _, tc := range tests {
		got, err := NewSeries(tc.prefix, tc.digits)
		switch {
		case tc.problem == "" && err != nil:
			t.Errorf("NewSeries(%q, %d): %v", tc.prefix, tc.digits, err)
		case tc.problem == "" && got != tc.want:
			t.Errorf("NewSeries(%q, %d) = %v, want %v", tc.prefix, tc.digits, got, tc.want)
		case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
			t.Errorf("NewSeries(%.40q, %d): error %v, want one saying %q", tc.prefix, tc.digits, err, tc.problem)
		case err != nil && len(err.Error()) > 200:
			t.Errorf("NewSeries(%.40q, %d): a message of %d bytes echoes the prefix whole", tc.prefix, tc.digits, len(err.Error()))
		}
	}
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		a, b Series
		want bool
	}{
		{Series{"SB", 5}, Series{"SB", 5}, true},
		{Series{"SB", 7}, Series{"SB1", 6}, true},
		{Series{"SB12", 3}, Series{"SB", 5}, true},
		{Series{"SB", 5}, Series{"SB", 7}, false},
		{Series{"SB", 7}, Series{"SBA", 6}, false},
		{Series{"SB", 5}, Series{"M444-", 5}, false},
		{Series{"M", 9}, Series{"M444-", 5}, false}, // the hyphen is no digit
		{Series{"M", 8}, Series{"M444", 5}, true},
	}
	for _, tc := range tests {
		if got := tc.a.Overlaps(tc.b); got != tc.want {
			t.Errorf("%v overlaps %v: %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.Overlaps(tc.a); got != tc.want {
			t.Errorf("%v overlaps %v: %v, want %v (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestDescribeNamesEverySeries(t *testing.T) {
	got := NewRules(append(DefaultSeries, Series{"SB", 7})).Describe()
	for _, want := range []string{"SB + 5 digits (SB00001)", "M444- + 5 digits (M444-00001)", "or SB + 7 digits (SB0000001)", "4-20 letters or digits"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() = %q, missing %q", got, want)
		}
	}
}

// FuzzSeries checks the series rules against each other: a code two series both match means
// they overlap; every series' example is its parent; a valid series' codes are never invalid.
func FuzzSeries(f *testing.F) {
	f.Add("SB", 7, "SB1", 6, "SB1000000")
	f.Add("M444-", 5, "M", 9, "M444-00012")
	f.Add("KH", 4, "KH0", 3, "KH0123")
	f.Fuzz(func(t *testing.T, prefixA string, digitsA int, prefixB string, digitsB int, code string) {
		a, errA := NewSeries(prefixA, digitsA)
		b, errB := NewSeries(prefixB, digitsB)
		if errA != nil || errB != nil {
			return
		}
		if a.Matches(code) && b.Matches(code) && !a.Overlaps(b) {
			t.Fatalf("%q matches %v and %v, which are said not to overlap", code, a, b)
		}
		if a.Overlaps(b) != b.Overlaps(a) {
			t.Fatalf("overlap of %v and %v is not symmetric", a, b)
		}
		rules := NewRules([]Series{a})
		if rules.Classify(a.Example()) != Parent {
			t.Fatalf("the example %q of %v is not a parent", a.Example(), a)
		}
		if kind := rules.Classify(Normalize(code)); a.Matches(Normalize(code)) && kind != Parent {
			t.Fatalf("%q matches %v but classifies as %v", code, a, kind)
		}
	})
}
