package importer

import (
	"flag"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The throughput and memory figures of the README come from a generated workbook:
//
//	go test ./importer -run TestWriteBenchWorkbook -count=1 -args -bench-workbook=/tmp/import-1m.xlsx -bench-rows=1000000
//
// M444- parents (a seeded database uses SB ones) of 30 children each, children numbered
// from 1000000000 (seeded children have 8 digits), so every row creates a bag.
var (
	benchWorkbook = flag.String("bench-workbook", "", "write a child-to-parent workbook of -bench-rows rows here")
	benchRows     = flag.Int("bench-rows", 1_000_000, "rows of the -bench-workbook")
	// Excel itself keeps text in the shared strings table; the stream writer writes it
	// inline. -bench-shared-strings writes the way Excel does (slowly, all in memory).
	benchShared = flag.Bool("bench-shared-strings", false, "keep the -bench-workbook's text in the shared strings table")
)

func TestWriteBenchWorkbook(t *testing.T) {
	if *benchWorkbook == "" {
		t.Skip("writes the benchmark workbook only when -bench-workbook is given")
	}
	book := excelize.NewFile()
	defer book.Close()
	var w rowSetter = sharedStrings{book}
	if !*benchShared {
		stream, err := book.NewStreamWriter("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		w = stream
	}
	parent, child := 0, 0
	for row := 1; row <= *benchRows; row++ {
		cells := []any{row, fmt.Sprintf("LABEL NO.%d", 1_000_000_000+child)}
		if row%31 == 0 {
			cells = []any{"Parent Code", fmt.Sprintf("M444-%05d", parent)}
			parent++
		} else {
			child++
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := w.SetRow(cell, cells); err != nil {
			t.Fatal(err)
		}
	}
	if stream, ok := w.(*excelize.StreamWriter); ok {
		if err := stream.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := book.SaveAs(*benchWorkbook); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d rows, %d parents, %d children", *benchWorkbook, *benchRows, parent, child)
}

// rowSetter writes a row of a workbook's first sheet.
type rowSetter interface {
	SetRow(cell string, values []any, opts ...excelize.RowOpts) error
}

// sharedStrings writes rows with SetSheetRow, which puts text into the shared strings table.
type sharedStrings struct{ book *excelize.File }

func (s sharedStrings) SetRow(cell string, values []any, _ ...excelize.RowOpts) error {
	return s.book.SetSheetRow("Sheet1", cell, &values)
}
