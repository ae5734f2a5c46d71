package model

import (
	"encoding/base64"
	"strconv"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/internal/scalar"
)

// Cursors are opaque: base64 of "c:<id of the last row>". Every list is ordered by id (in one
// direction or the other), so the id alone is a stable keyset position.

// EncodeCursor returns the cursor of the keyset position.
func EncodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c:" + strconv.FormatInt(id, 10)))
}

// DecodeCursor returns the keyset position of a cursor, or BAD_USER_INPUT for one this server
// did not give out.
func DecodeCursor(cursor string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil && len(raw) > 2 && string(raw[:2]) == "c:" {
		if id, err := strconv.ParseInt(string(raw[2:]), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, apperr.New(apperr.BadUserInput, "the cursor %s is not one this server gave out; pass an endCursor back unchanged", scalar.Quote(cursor))
}

// The edges of the long lists carry their keyset position and encode the cursor only when a
// client selects it (gqlgen calls Cursor inline): most screens never ask for an edge's cursor.

// BagEdge is a bag of a connection at its keyset position.
type BagEdge struct {
	Node     *db.Bag
	Position int64
}

// Cursor is the edge's cursor.
func (e *BagEdge) Cursor() string { return EncodeCursor(e.Position) }

// ScanEdge is a scan of a connection (its id is its position).
type ScanEdge struct {
	Node *db.Scan
}

// Cursor is the edge's cursor.
func (e *ScanEdge) Cursor() string { return EncodeCursor(e.Node.ID) }

// BillEdge is a bill of a connection (its id is its position).
type BillEdge struct {
	Node *db.Bill
}

// Cursor is the edge's cursor.
func (e *BillEdge) Cursor() string { return EncodeCursor(e.Node.ID) }
