package app

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"tracetrack/db"
	"tracetrack/graph/model"
)

// marshaled is what gqlgen's marshaler writes.
func marshaled(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.String()
}

// written is what the fast path's writer writes, and whether it wrote null.
func written(write func(*writer) bool) (string, bool) {
	var w writer
	wrote := write(&w)
	return string(w.buf), !wrote
}

// FuzzWriterString: the fast path writes every string (any bytes, UTF-8 or not) as
// graphql.MarshalString writes it.
//
//	go test -run XXX -fuzz FuzzWriterString -fuzztime 30s ./app
func FuzzWriterString(f *testing.F) {
	for _, seed := range []string{"", "SB00001", `a"b\c`, "tab\there\r\n", "\x00\x01\x1f\x7f", "ünï\u2028<&>", "\xff\xfe\"\xc3", "\u00e9\x1b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, null := written(func(w *writer) bool { return w.string(s) })
		if want := marshaled(model.MarshalString(s)); got != want || null {
			t.Fatalf("%q: wrote %s (null %v), gqlgen %s", s, got, null, want)
		}
	})
}

// FuzzWriterFloat: the fast path writes every float (the weights) as
// graphql.MarshalFloatContext writes it, and refuses what it refuses.
//
//	go test -run XXX -fuzz FuzzWriterFloat -fuzztime 30s ./app
func FuzzWriterFloat(f *testing.F) {
	for _, seed := range []float64{0, 1, -1, 0.5, 12.75, 1.0 / 3, 1e20, 1e21, 1e-7, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.NaN()} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		var w writer
		wrote, err := w.float(v)
		var want bytes.Buffer
		wantErr := graphql.MarshalFloatContext(v).MarshalGQLContext(context.Background(), &want)
		if (err == nil) != (wantErr == nil) || (err == nil && (string(w.buf) != want.String() || !wrote)) {
			t.Fatalf("%v: wrote %s (%v), gqlgen %s (%v)", v, w.buf, err, want.String(), wantErr)
		}
	})
}

// TestWriterScalars: the fast path writes times, ints, booleans, ids and nulls as graph/model's
// marshalers (and db's global ids) do.
func TestWriterScalars(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2026, 12, 1, 23, 4, 5, 123456789, time.UTC)
	times := []time.Time{{}, at, at.Truncate(time.Second), at.In(ist), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), at.Truncate(time.Microsecond).In(time.Local)}
	for _, tm := range times {
		got, null := written(func(w *writer) bool { return w.time(tm) })
		if want := marshaled(model.MarshalTime(tm)); got != want || null != tm.IsZero() {
			t.Errorf("time %v: wrote %s (null %v), gqlgen %s", tm, got, null, want)
		}
		got, _ = written(func(w *writer) bool { return w.optionalTime(&tm) })
		if want := marshaled(model.MarshalTime(tm)); got != want {
			t.Errorf("time %v by pointer: wrote %s, gqlgen %s", tm, got, want)
		}
	}
	for _, n := range []int{0, 1, -1, 30, 2147483647, -2147483648} {
		if got, null := written(func(w *writer) bool { return w.int(n) }); got != marshaled(model.MarshalInt(n)) || null {
			t.Errorf("int %d: wrote %s", n, got)
		}
	}
	for _, b := range []bool{false, true} {
		if got, null := written(func(w *writer) bool { return w.boolean(b) }); got != marshaled(graphql.MarshalBoolean(b)) || null {
			t.Errorf("boolean %v: wrote %s", b, got)
		}
	}
	for _, id := range []int64{1, 255, 256, 1030000, 1 << 62} {
		bag, bill, scan := &db.Bag{ID: id}, &db.Bill{ID: id}, &db.Scan{ID: id}
		for _, c := range []struct {
			write func(*writer) bool
			want  string
		}{
			{func(w *writer) bool { return writeID(w, bag, (*db.Bag).AppendGlobalID) }, bag.GlobalID()},
			{func(w *writer) bool { return writeID(w, bill, (*db.Bill).AppendGlobalID) }, bill.GlobalID()},
			{func(w *writer) bool { return writeID(w, scan, (*db.Scan).AppendGlobalID) }, scan.GlobalID()},
		} {
			if got, null := written(c.write); got != marshaled(model.MarshalID(c.want)) || null {
				t.Errorf("id %d: wrote %s, want the id %s", id, got, c.want)
			}
		}
	}
	if got, null := written(func(w *writer) bool { return w.optionalString(nil) }); got != marshaled(graphql.Null) || !null {
		t.Errorf("no string: wrote %s (null %v)", got, null)
	}
	if got, null := written(func(w *writer) bool { return w.optionalTime(nil) }); got != marshaled(graphql.Null) || !null {
		t.Errorf("no time: wrote %s (null %v)", got, null)
	}
}
