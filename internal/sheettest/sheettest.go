// Package sheettest writes the workbooks and CSVs that import tests read, so that no test
// fixture is a committed binary. Tests only.
package sheettest

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Sheet is a named sheet of rows (a nil row is a blank row).
type Sheet struct {
	Name string
	Rows [][]string
}

// Workbook writes the sheets into dir/name (.xlsx) with excelize's stream writer, as text
// cells, and returns its path.
func Workbook(t testing.TB, dir, name string, sheets ...Sheet) string {
	t.Helper()
	book := excelize.NewFile()
	defer book.Close()
	for i, sheet := range sheets {
		if i == 0 {
			if err := book.SetSheetName("Sheet1", sheet.Name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := book.NewSheet(sheet.Name); err != nil {
			t.Fatal(err)
		}
		w, err := book.NewStreamWriter(sheet.Name)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range sheet.Rows {
			if row == nil {
				continue
			}
			cells := make([]any, len(row))
			for c, v := range row {
				cells[c] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := w.SetRow(cell, cells); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	if err := book.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// CSV writes the records into dir/name and returns its path.
func CSV(t testing.TB, dir, name string, records ...[]string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// File writes raw content into dir/name and returns its path.
func File(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
