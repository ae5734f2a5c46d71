package db

import (
	"unicode/utf8"

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

// NormalizeBillNumber cleans a bill number as a QR is cleaned (trimmed, upper-cased, control
// and zero-width characters removed), so numbers compare case-insensitively and a pasted
// zero-width space cannot make a second bill that looks like the first.
func NormalizeBillNumber(number string) string {
	return qr.Clean(number)
}

// CheckBillNumber reports BAD_USER_INPUT for a normalised bill number of the wrong length.
func CheckBillNumber(number string) error {
	n := utf8.RuneCountInString(number)
	if n < MinBillNumberLen {
		return apperr.New(apperr.BadUserInput, "a bill number has %d-%d characters, %s has %d",
			MinBillNumberLen, MaxBillNumberLen, scalar.Quote(number), n)
	}
	if n > MaxBillNumberLen {
		// no count: the number was cut short when it was cleaned (qr.MaxInputLength)
		return apperr.New(apperr.BadUserInput, "a bill number has %d-%d characters, %s is longer",
			MinBillNumberLen, MaxBillNumberLen, scalar.Quote(number))
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
