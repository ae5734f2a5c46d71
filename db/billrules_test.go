package db

import (
	"strings"
	"testing"
)

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
