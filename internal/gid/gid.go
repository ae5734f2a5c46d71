// Package gid holds the global ids of the API: opaque to clients, base64 of
// "<Type>:<database id>". The type prefix lets node(id) find the right table and keeps a bag
// id from being passed where a bill id belongs. Resolvers and exports share it.
package gid

import (
	"encoding/base64"
	"strconv"
	"strings"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// The kinds of object that have a global id (the GraphQL type names).
const (
	User       = "User"
	Bag        = "Bag"
	Bill       = "Bill"
	Scan       = "Scan"
	Area       = "Area"
	AuditEntry = "AuditEntry"
	// ReturnTicket is an IPT return ticket.
	ReturnTicket = "ReturnTicket"
	ImportJob    = "ImportJob"
)

// Encode returns the global id of the object of the kind with the database id.
func Encode(kind string, id int64) string {
	return string(AppendEncode(nil, kind, id))
}

// AppendEncode appends Encode(kind, id) to dst: the fast path of reads writes a page's ids
// into its response without a string each.
func AppendEncode(dst []byte, kind string, id int64) []byte {
	var raw [64]byte // a kind of at most 32 letters, the colon and 20 digits
	return base64.RawURLEncoding.AppendEncode(dst, strconv.AppendInt(append(append(raw[:0], kind...), ':'), id, 10))
}

// DecodeAny returns the kind and database id of a global id, or BAD_USER_INPUT. Messages do
// not repeat the id: it may be the id of something the caller may not see.
func DecodeAny(global string) (string, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(global)
	if err == nil {
		kind, num, ok := strings.Cut(string(raw), ":")
		if id, perr := strconv.ParseInt(num, 10, 64); ok && perr == nil && id > 0 && typeName(kind) {
			return kind, id, nil
		}
	}
	return "", 0, apperr.New(apperr.BadUserInput, "that is not an id this server gave out; pass back an id exactly as you received it")
}

// Decode returns the database id of a global id of the expected kind, or BAD_USER_INPUT.
func Decode(kind, global string) (int64, error) {
	k, id, err := DecodeAny(global)
	if err != nil {
		return 0, err
	}
	if k != kind {
		return 0, apperr.New(apperr.BadUserInput, "that is the id of %s, not of %s", scalar.A(k), scalar.A(kind))
	}
	return id, nil
}

// typeName: the kind of an id is a GraphQL type name, 1-32 letters (so a message may quote it).
func typeName(kind string) bool {
	if kind == "" || len(kind) > 32 {
		return false
	}
	for _, c := range kind {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
