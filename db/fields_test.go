package db

import (
	"reflect"
	"strings"
	"testing"
)

// TestFieldsFollowColumns: the hand-written scan list (fields) names, in order, the struct
// fields whose db tags are the column list, so a column added to one and not the other fails.
// (bagRows and readScans are checked against sqlx's reads of the same rows.)
func TestFieldsFollowColumns(t *testing.T) {
	bill := &Bill{}
	checkFields(t, bill, bill.fields(), billColumns, billColumnCount)
}

func checkFields(t *testing.T, record any, fields []any, columnList string, count int) {
	t.Helper()
	columns := strings.Split(columnList, ",")
	if len(columns) != count || len(fields) != count {
		t.Fatalf("%T: %d columns, %d fields, count %d", record, len(columns), len(fields), count)
	}
	v := reflect.ValueOf(record).Elem()
	tags := map[uintptr]string{}
	for i := range v.NumField() {
		tags[v.Field(i).Addr().Pointer()] = v.Type().Field(i).Tag.Get("db")
	}
	for i, f := range fields {
		if tag, want := tags[reflect.ValueOf(f).Pointer()], strings.TrimSpace(columns[i]); tag != want {
			t.Errorf("%T: field %d is %q, the column there is %q", record, i, tag, want)
		}
	}
}
