package resolvers

import (
	"encoding/base64"
	"strconv"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/internal/scalar"
)

// MaxPageSize caps `first` on every connection (the contract's 100).
const MaxPageSize = 100

// Cursors are opaque: base64 of "c:<id of the last row>". Every list is ordered by id (in one
// direction or the other), so the id alone is a stable keyset position.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(cursor string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil && len(raw) > 2 && string(raw[:2]) == "c:" {
		if id, err := strconv.ParseInt(string(raw[2:]), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, apperr.New(apperr.BadUserInput, "the cursor %s is not one this server gave out; pass an endCursor back unchanged", scalar.Quote(cursor))
}

// pageArgs checks first and after and returns the store's page request.
func pageArgs(first *int, after *string, defaultSize int) (db.Page, error) {
	size := defaultSize
	if first != nil {
		size = *first
	}
	if size < 0 || size > MaxPageSize {
		return db.Page{}, apperr.New(apperr.BadUserInput, "first must be between 0 and %d, got %d", MaxPageSize, size)
	}
	page := db.Page{Limit: size}
	if after != nil && *after != "" {
		id, err := decodeCursor(*after)
		if err != nil {
			return db.Page{}, err
		}
		page.AfterID = id
	}
	return page, nil
}
