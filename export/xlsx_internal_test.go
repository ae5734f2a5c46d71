package export

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"
)

// A workbook longer than a sheet goes on in the next sheet, each with the header row.
func TestXLSXRollsOverToTheNextSheet(t *testing.T) {
	book, err := newXLSX([]string{"n"}, 3) // a header and two rows a sheet
	if err != nil {
		t.Fatal(err)
	}
	defer book.file.Close()
	for i := 1; i <= 7; i++ {
		if err := book.row([]string{fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := book.sheet.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := book.file.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	read, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	var got []string
	for _, sheet := range read.GetSheetList() {
		rows, err := read.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s%v", sheet, rows))
	}
	want := []string{"Sheet1[[n] [1] [2]]", "Sheet2[[n] [3] [4]]", "Sheet3[[n] [5] [6]]", "Sheet4[[n] [7]]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sheets = %v, want %v", got, want)
	}
}
