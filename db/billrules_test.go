package db

import (
	"strings"
	"testing"
)

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
