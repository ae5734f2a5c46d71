package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"tracetrack/apperr"
)

// RequestID returns the id of the request ctx belongs to ("" outside a request).
func RequestID(ctx context.Context) string { return apperr.RequestID(ctx) }

// requestIDHeader is X-Request-ID in the canonical form net/http keeps headers under, so
// reading and setting it copies nothing.
const requestIDHeader = "X-Request-Id"

// withRequestID gives every request an id (the caller's X-Request-ID when it sends a sane
// one), echoes it in the response and puts it in the context for logs and errors.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !saneRequestID(id) {
			var raw [8]byte
			_, _ = rand.Read(raw[:])
			id = hex.EncodeToString(raw[:])
		}
		w.Header()[requestIDHeader] = []string{id}
		next.ServeHTTP(w, r.WithContext(apperr.WithRequestID(r.Context(), id)))
	})
}

// saneRequestID: 1-64 letters, digits and . _ : -. The id is logged, echoed and stored in
// the audit log, so anything else (bytes that are not UTF-8, say, which the database would
// refuse) is replaced by a generated one.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
