package db

import (
	"reflect"
	"strings"
	"testing"
)

// TestFieldsFollowColumns: the hand-written scan lists (fields) name, in order, the struct
// fields whose db tags are the column lists, so a column added to one and not the other fails.
func TestFieldsFollowColumns(t *testing.T) {
	bag, bill := &Bag{}, &Bill{}
	checkFields(t, bag, bag.fields(), bagColumns, bagColumnCount)
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
