package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"tracetrack/db"
	"tracetrack/qr"
)

// The old system's CSV exports: bags (qr_id,type,parent_qr_id: a parent row names no
// parent, a child row its parent) and bills (bill_id,description,parent_bag_count,
// expected_weight_kg: parent_bag_count is the bill's capacity in parent bags). Rows are
// numbered by their line, the header being line 1.

// readCSV hands every row after the header to emit.
func readCSV(ctx context.Context, path string, format db.ImportFormat, emit func(db.ImportRow) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := newCSVReader(bufio.NewReaderSize(f, 1<<16))
	if _, err := r.Read(); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	parse := bagRow
	width := len(bagsColumns)
	if format == db.ImportBillsCSV {
		parse, width = billRow, len(billsColumns)
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := r.FieldPos(0)
		var parseErr *csv.ParseError
		switch {
		case errors.As(err, &parseErr):
			row := db.ImportRow{SheetNo: 1, RowNo: int64(parseErr.StartLine), Kind: db.ImportChild,
				Input: "(unreadable)", Refusal: "the line is not valid CSV: " + parseErr.Err.Error()}
			if err := emit(row); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		row := db.ImportRow{SheetNo: 1, RowNo: int64(line), Input: quoteCells(record, 200)}
		if blank(record) {
			continue
		}
		if len(record) != width {
			row.Kind = db.ImportChild
			row.Refusal = fmt.Sprintf("the row has %d columns; the header has %d", len(record), width)
		} else {
			parse(&row, record)
		}
		if err := emit(row); err != nil {
			return err
		}
	}
}

func blank(record []string) bool {
	for _, cell := range record {
		if strings.TrimSpace(cell) != "" {
			return false
		}
	}
	return true
}

// bagRow reads qr_id,type,parent_qr_id.
func bagRow(row *db.ImportRow, record []string) {
	code := qr.Normalize(record[0])
	switch strings.ToUpper(strings.TrimSpace(record[1])) {
	case string(db.BagTypeParent):
		row.Kind, row.Parent = db.ImportParent, code
		if qr.Classify(code) != qr.Parent {
			row.Refusal = fmt.Sprintf("parent QR %q is invalid: %s", record[0], qr.Describe)
		}
	case string(db.BagTypeChild):
		parent := qr.Normalize(record[2])
		row.Kind, row.Child, row.Parent = db.ImportChild, code, parent
		switch {
		case qr.Classify(code) != qr.Child:
			row.Refusal = fmt.Sprintf("child QR %q is invalid: %s", record[0], qr.Describe)
		case qr.Classify(parent) != qr.Parent:
			row.Refusal = fmt.Sprintf("parent QR %q of the child is invalid: %s", record[2], qr.Describe)
		}
	default:
		row.Kind = db.ImportChild
		row.Refusal = fmt.Sprintf("type %q is neither PARENT nor CHILD", record[1])
	}
}

// billRow reads bill_id,description,parent_bag_count,expected_weight_kg. The expected
// weight is derived here (capacity x children per parent x kg per child), so the column is
// only checked to be a weight.
func billRow(row *db.ImportRow, record []string) {
	row.Kind = db.ImportBill
	row.Bill = db.NormalizeBillNumber(record[0])
	row.Description = strings.TrimSpace(record[1])
	if err := db.CheckBillNumber(row.Bill); err != nil {
		row.Refusal = err.Error()
		return
	}
	if err := db.CheckBillDetails(&row.Description, nil, nil); err != nil {
		row.Refusal = err.Error()
		return
	}
	capacity, err := strconv.Atoi(strings.TrimSpace(record[2]))
	if err != nil {
		row.Refusal = fmt.Sprintf("parent_bag_count %q is not a whole number", record[2])
		return
	}
	if err := db.CheckBillCapacity(capacity); err != nil {
		row.Refusal = "parent_bag_count: " + err.Error()
		return
	}
	row.Capacity = capacity
	if weight := strings.TrimSpace(record[3]); weight != "" {
		kg, err := strconv.ParseFloat(weight, 64)
		if err != nil || kg < 0 || math.IsInf(kg, 0) || math.IsNaN(kg) {
			row.Refusal = fmt.Sprintf("expected_weight_kg %q is not a weight in kg (a number, 0 or more)", record[3])
		}
	}
}

// csvRows estimates the rows of a CSV by its lines, for the job's progress.
func csvRows(path string) *int64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines int64
	buf := make([]byte, 1<<16)
	for {
		n, err := f.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err != nil {
			break
		}
	}
	lines = max(0, lines-1) // the header
	return &lines
}
