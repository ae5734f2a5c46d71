package db

import (
	"regexp"
	"strings"
	"unicode"

	"tracetrack/apperr"
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
		return apperr.New(apperr.BadUserInput, "a bill number has %d-%d characters, %q has %d",
			MinBillNumberLen, MaxBillNumberLen, number, n)
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

// normalizeQR trims a scanned QR, strips control and zero-width characters and upper-cases
// it. It stands in for package qr's Normalize until the scanning branch is merged.
func normalizeQR(raw string) string {
	cleaned := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, raw)
	return strings.ToUpper(strings.TrimSpace(cleaned))
}

var parentQRFormat = regexp.MustCompile(`^(SB[0-9]{5}|M444-[0-9]{5})$`)
var childQRFormat = regexp.MustCompile(`^[A-Z0-9]{4,20}$`)

// Rejection codes of linkBagsToBill (ScanRejection.code).
const (
	RejectNotFound         = "NOT_FOUND"
	RejectIsChild          = "IS_CHILD"
	RejectOnOtherBill      = "ON_OTHER_BILL"
	RejectBillFull         = "BILL_FULL"
	RejectInvalidQR        = "INVALID_QR"
	RejectDuplicateInBatch = "DUPLICATE_IN_BATCH"
)

// Rejection is a QR a batch call did not apply, with why.
type Rejection struct {
	QR      string
	Code    string
	Message string
}

// splitLinkBatch normalises the QRs of a link call and sorts out the ones that can be
// rejected without the database: malformed QRs and repeats. The QRs to look up keep their order.
func splitLinkBatch(raw []string) (lookup []string, rejected []Rejection) {
	seen := make(map[string]bool, len(raw))
	for _, r := range raw {
		qr := normalizeQR(r)
		switch {
		case seen[qr]:
			rejected = append(rejected, Rejection{QR: qr, Code: RejectDuplicateInBatch,
				Message: qr + " appears more than once in this call; it was handled once"})
		case !parentQRFormat.MatchString(qr) && !childQRFormat.MatchString(qr):
			rejected = append(rejected, Rejection{QR: qr, Code: RejectInvalidQR,
				Message: "\"" + r + "\" is not a bag QR (a parent QR is SB + 5 digits or M444- + 5 digits)"})
		default:
			lookup = append(lookup, qr)
		}
		seen[qr] = true
	}
	return lookup, rejected
}
