package model

import (
	"bytes"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// FuzzMarshalTimeAsGqlgen: our time output is byte for byte graphql.MarshalTime's.
func FuzzMarshalTimeAsGqlgen(f *testing.F) {
	f.Add(int64(0), int64(0), 0)
	f.Add(int64(1764590000), int64(123456789), 19800)
	f.Add(int64(-62135596800), int64(0), 0)
	f.Add(int64(253402300799), int64(999999999), -3600*11)
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int) {
		at := time.Unix(sec, nsec%1e9).In(time.FixedZone("", offset%(18*3600)))
		var ours, theirs bytes.Buffer
		MarshalTime(at).MarshalGQL(&ours)
		graphql.MarshalTime(at).MarshalGQL(&theirs)
		if ours.String() != theirs.String() {
			t.Fatalf("%v: %s, gqlgen %s", at, ours.String(), theirs.String())
		}
	})
}
