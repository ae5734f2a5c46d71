package db

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalizeQR(t *testing.T) {
	for in, want := range map[string]string{
		"SB00001":             "SB00001",
		"  sb00001\r\n":       "SB00001",
		"\u200bm444-00012\t":  "M444-00012",
		"s\u200db\u00000001x": "SB0001X",
		"":                    "",
	} {
		if got := normalizeQR(in); got != want {
			t.Errorf("normalizeQR(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeQR(f *testing.F) {
	for _, seed := range []string{"SB00001", " sb00001\u200b", "\x00\x1f", "ß"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := normalizeQR(in)
		if normalizeQR(out) != out {
			t.Errorf("not idempotent: %q -> %q -> %q", in, out, normalizeQR(out))
		}
		if utf8.ValidString(in) && strings.IndexFunc(out, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
			t.Errorf("%q kept a control or format character: %q", in, out)
		}
	})
}

func TestSplitLinkBatch(t *testing.T) {
	lookup, rejected := splitLinkBatch([]string{"SB00001", "sb00001", "C0016586", "bad qr", "BAD QR", "M444-00001"})
	if strings.Join(lookup, ",") != "SB00001,C0016586,M444-00001" {
		t.Errorf("lookup = %v", lookup)
	}
	codes := []string{}
	for _, r := range rejected {
		codes = append(codes, r.QR+":"+r.Code)
	}
	if strings.Join(codes, ",") != "SB00001:DUPLICATE_IN_BATCH,BAD QR:INVALID_QR,BAD QR:DUPLICATE_IN_BATCH" {
		t.Errorf("rejected = %v", codes)
	}
}

func TestBillNumberAndCapacityRules(t *testing.T) {
	for number, ok := range map[string]bool{"ABC": true, "AB": false, strings.Repeat("9", 50): true, strings.Repeat("9", 51): false, "ÄÖÜ": true} {
		if err := CheckBillNumber(number); (err == nil) != ok {
			t.Errorf("CheckBillNumber(%q) = %v", number, err)
		}
	}
	for capacity, ok := range map[int]bool{0: false, 1: true, 500: true, 501: false, -3: false} {
		if err := CheckBillCapacity(capacity); (err == nil) != ok {
			t.Errorf("CheckBillCapacity(%d) = %v", capacity, err)
		}
	}
	long := strings.Repeat("é", MaxBillDestinationLen+1)
	if err := CheckBillDetails(nil, &long, nil); err == nil {
		t.Error("an overlong destination passed")
	}
	if got := NormalizeBillNumber("  inv-7a "); got != "INV-7A" {
		t.Errorf("NormalizeBillNumber = %q", got)
	}
}
