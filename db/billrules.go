package db

import (
	"fmt"
	"strings"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
	"tracetrack/qr"
)

// Bill rules of SPEC.md as pure functions; the database checks the same limits
// (bills_bill_number_format, bills_capacity_range) as a backstop.
const (
	MinBillNumberLen = 3
	MaxBillNumberLen = 50
	MinBillCapacity  = 1
	MaxBillCapacity  = 500
	// MaxLinkBatch is the most parent QRs one linkBagsToBill call takes.
	MaxLinkBatch = 100
	// Longest free-text details of a bill: enough for any real note, small enough that an
	// oversized request is refused instead of stored.
	MaxBillDescriptionLen = 500
	MaxBillDestinationLen = 200
	MaxVehicleNumberLen   = 50
)

// CheckBillDetails reports BAD_USER_INPUT for a description, destination or vehicle number
// longer than its limit (nil fields are not checked).
func CheckBillDetails(description, destination, vehicleNumber *string) error {
	for _, f := range []struct {
		name  string
		value *string
		max   int
	}{
		{"description", description, MaxBillDescriptionLen},
		{"destination", destination, MaxBillDestinationLen},
		{"vehicleNumber", vehicleNumber, MaxVehicleNumberLen},
	} {
		if f.value != nil && len([]rune(*f.value)) > f.max {
			return apperr.New(apperr.BadUserInput, "%s has at most %d characters, got %d", f.name, f.max, len([]rune(*f.value)))
		}
	}
	return nil
}

// NormalizeBillNumber trims and upper-cases a bill number, so numbers compare case-insensitively.
func NormalizeBillNumber(number string) string {
	return strings.ToUpper(strings.TrimSpace(number))
}

// CheckBillNumber reports BAD_USER_INPUT for a normalised bill number of the wrong length.
func CheckBillNumber(number string) error {
	if n := len([]rune(number)); n < MinBillNumberLen || n > MaxBillNumberLen {
		return apperr.New(apperr.BadUserInput, "a bill number has %d-%d characters, %s has %d",
			MinBillNumberLen, MaxBillNumberLen, scalar.Quote(number), n)
	}
	return nil
}

// CheckBillCapacity reports BAD_USER_INPUT for a capacity outside 1-500.
func CheckBillCapacity(capacity int) error {
	if capacity < MinBillCapacity || capacity > MaxBillCapacity {
		return apperr.New(apperr.BadUserInput, "a bill holds %d-%d parent bags, got capacity %d",
			MinBillCapacity, MaxBillCapacity, capacity)
	}
	return nil
}

// splitLinkBatch normalises the QRs of a link call and sorts out the ones that can be
// rejected without the database: malformed QRs and repeats. The QRs to look up keep their order.
func splitLinkBatch(raw []string) (lookup []string, rejected []Rejection) {
	seen := make(map[string]bool, len(raw))
	for _, r := range raw {
		code := qr.Normalize(r)
		switch {
		case seen[code]:
			rejected = append(rejected, Rejection{QR: code, Code: RejectDuplicateInBatch,
				Message: code + " appears more than once in this call; it was handled once"})
		case qr.Classify(code) == qr.Invalid:
			rejected = append(rejected, Rejection{QR: code, Code: RejectInvalidQR,
				Message: fmt.Sprintf("%q is not a valid QR: %s", code, qr.Describe)})
		default:
			lookup = append(lookup, code)
		}
		seen[code] = true
	}
	return lookup, rejected
}
