package gid

import (
	"encoding/base64"
	"strconv"
	"testing"
)

// TestEncode: a global id is base64 (URL alphabet, no padding) of "<kind>:<id>", appended
// or as a string, and decodes back to the kind and id.
func TestEncode(t *testing.T) {
	for _, kind := range []string{Bag, Bill, Scan, ReturnTicket, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"} {
		for _, id := range []int64{1, 9, 10, 255, 1030000, 1<<63 - 1} {
			want := base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(id, 10)))
			if got := Encode(kind, id); got != want {
				t.Errorf("Encode(%s, %d) = %s, want %s", kind, id, got, want)
			}
			if got := string(AppendEncode([]byte("x"), kind, id)); got != "x"+want {
				t.Errorf("AppendEncode(x, %s, %d) = %s", kind, id, got)
			}
			if k, n, err := DecodeAny(want); k != kind || n != id || err != nil {
				t.Errorf("DecodeAny(%s) = %s, %d, %v", want, k, n, err)
			}
		}
	}
}
