package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"tracetrack/db"
	"tracetrack/qr"
)

// A workbook of the old system holds, on every sheet, rows of a serial number and a QR. In a
// child-to-parent workbook the child QRs (often printed as `LABEL NO.0016586`) collect until a
// parent row closes them: its serial cell reads `Parent Code`, or its QR is a parent QR. In a
// parent-to-bill workbook parent QRs collect until a `Bill No.` row closes them (the number
// after the label, or in the next cell). Blank rows are skipped; the first row of a sheet may
// be a header (a non-numeric serial over a cell that is no QR).

// maxOpenRows bounds the rows waiting for their closing row: far more than a parent or a
// bill holds, and what keeps a sheet that never closes from growing in memory.
const maxOpenRows = 1000

// sniffRows is how many non-blank rows Detect looks at to tell the workbook formats apart.
const sniffRows = 500

// openWorkbook opens the file for streaming: worksheets and the shared strings past
// excelize's in-memory limit are unzipped to temporary files, not into memory.
func openWorkbook(path string) (*excelize.File, error) {
	return excelize.OpenFile(path)
}

// workbookRow is a row of a sheet split into its serial (label) cell and its QR cell.
type workbookRow struct {
	label, code string
	cells       []string
}

func splitRow(cells []string) (workbookRow, bool) {
	for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	if len(cells) == 0 {
		return workbookRow{}, false
	}
	r := workbookRow{label: strings.TrimSpace(cells[0]), cells: cells}
	for _, c := range cells[1:] {
		if c = strings.TrimSpace(c); c != "" {
			r.code = c
			break
		}
	}
	if r.code == "" && !isParentLabel(r.label) && !isBillLabel(r.label) {
		// a one-column sheet: the cell is the QR
		r.label, r.code = "", r.label
	}
	return r, true
}

// isParentLabel: the serial cell of a parent row reads `Parent Code`.
func isParentLabel(label string) bool {
	return strings.TrimRight(qr.Clean(label), ": ") == "PARENT CODE"
}

func isBillLabel(label string) bool {
	return strings.HasPrefix(qr.Clean(label), "BILL NO")
}

// billNumber is the number a `Bill No.` row names: after the label, or in the QR cell.
func (r workbookRow) billNumber() string {
	rest := strings.TrimPrefix(qr.Clean(r.label), "BILL NO")
	rest = strings.TrimSpace(strings.TrimLeft(rest, ".: "))
	if rest == "" {
		rest = r.code
	}
	return db.NormalizeBillNumber(rest)
}

// header reports a row that heads the sheet: a serial that is no number over a cell that
// is no QR.
func (r workbookRow) header(rules qr.Rules) bool {
	if isParentLabel(r.label) || isBillLabel(r.label) || r.label == "" {
		return false
	}
	if _, err := strconv.ParseFloat(r.label, 64); err == nil {
		return false
	}
	return rules.Classify(qr.Normalize(r.code)) == qr.Invalid
}

// workbookFormat tells the two workbook formats apart by their first rows: a `Bill No.` row
// or parents only make a parent-to-bill workbook; a `Parent Code` row or a child QR a
// child-to-parent one.
func workbookFormat(book *excelize.File, rules qr.Rules) (db.ImportFormat, error) {
	seen, parents := 0, 0
	for _, sheet := range book.GetSheetList() {
		rows, err := book.Rows(sheet)
		if err != nil {
			return "", err
		}
		for seen < sniffRows && rows.Next() {
			cells, err := rows.Columns()
			if err != nil {
				rows.Close()
				return "", err
			}
			r, ok := splitRow(cells)
			if !ok {
				continue
			}
			seen++
			switch {
			case isBillLabel(r.label):
				rows.Close()
				return db.ImportParentBillWorkbook, nil
			case isParentLabel(r.label), rules.Classify(qr.Normalize(r.code)) == qr.Child:
				rows.Close()
				return db.ImportChildParentWorkbook, nil
			case rules.Classify(qr.Normalize(r.code)) == qr.Parent:
				parents++
			}
		}
		rows.Close()
	}
	if parents > 0 {
		return db.ImportParentBillWorkbook, nil
	}
	return "", errUnknownFormat("the workbook has no child, parent or bill rows")
}

// workbookRows estimates the rows of every sheet, for the job's progress: from the sheets'
// dimensions (read from the start of each sheet, without loading it), or, when a sheet has
// none (excelize's stream writer leaves it out), by counting the row elements of the
// worksheets of the file at path (decompressing them once more, a fraction of what parsing
// costs); nil if neither works.
func workbookRows(book *excelize.File, path string) *int64 {
	var total int64
	for _, sheet := range book.GetSheetList() {
		ref, err := book.GetSheetDimension(sheet)
		_, last, ranged := strings.Cut(ref, ":")
		_, rows, cellErr := excelize.CellNameToCoordinates(last)
		if err != nil || !ranged || cellErr != nil {
			return countRowElements(path)
		}
		total += int64(rows)
	}
	return &total
}

// countRowElements counts the <row> elements of all worksheets of the workbook.
func countRowElements(path string) *int64 {
	archive, err := zip.OpenReader(path)
	if err != nil {
		return nil
	}
	defer archive.Close()
	var total int64
	for _, f := range archive.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/") || !strings.HasSuffix(f.Name, ".xml") {
			continue
		}
		sheet, err := f.Open()
		if err != nil {
			return nil
		}
		n, err := countRowTags(sheet)
		sheet.Close()
		if err != nil {
			return nil
		}
		total += n
	}
	return &total
}

// countRowTags counts "<row " and "<row>" in r, also across the reads' boundaries.
func countRowTags(r io.Reader) (int64, error) {
	var n int64
	buf := make([]byte, 1<<16)
	carry := 0 // bytes kept from the end of the last read
	for {
		read, err := r.Read(buf[carry:])
		data := buf[:carry+read]
		n += int64(bytes.Count(data, []byte("<row ")) + bytes.Count(data, []byte("<row>")))
		// the last 4 bytes may start a tag the next read completes; they hold no whole one
		carry = copy(buf, data[max(0, len(data)-4):])
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// readWorkbook hands every row of every sheet to emit, as the format groups them.
func readWorkbook(ctx context.Context, book *excelize.File, format db.ImportFormat, rules qr.Rules, emit func(db.ImportRow) error) error {
	for i, sheet := range book.GetSheetList() {
		g := &grouper{format: format, rules: rules, emit: emit, sheetNo: i + 1, sheet: sheet}
		if err := g.readSheet(ctx, book); err != nil {
			return fmt.Errorf("sheet %s: %w", sheet, err)
		}
	}
	return nil
}

// grouper collects a sheet's rows until their closing row, then emits them.
type grouper struct {
	format  db.ImportFormat
	rules   qr.Rules
	emit    func(db.ImportRow) error
	sheetNo int
	sheet   string
	open    []db.ImportRow
}

func (g *grouper) readSheet(ctx context.Context, book *excelize.File) error {
	rows, err := book.Rows(g.sheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	var rowNo int64
	headed := false
	for rows.Next() {
		rowNo++
		if rowNo%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		cells, err := rows.Columns()
		if err != nil {
			return err
		}
		r, ok := splitRow(cells)
		if !ok {
			continue
		}
		if !headed {
			headed = true
			if r.header(g.rules) {
				continue
			}
		}
		if err := g.row(rowNo, r); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return err
	}
	return g.endOfSheet()
}

func (g *grouper) base(rowNo int64, r workbookRow) db.ImportRow {
	return db.ImportRow{SheetNo: g.sheetNo, Sheet: g.sheet, RowNo: rowNo, Input: quoteCells(r.cells, 200)}
}

func (g *grouper) row(rowNo int64, r workbookRow) error {
	if g.format == db.ImportParentBillWorkbook {
		return g.parentBillRow(rowNo, r)
	}
	return g.childParentRow(rowNo, r)
}

// childParentRow: a parent row closes the children collected; any other row is a child.
func (g *grouper) childParentRow(rowNo int64, r workbookRow) error {
	code := qr.Normalize(r.code)
	kind := g.rules.Classify(code)
	row := g.base(rowNo, r)
	if isParentLabel(r.label) || kind == qr.Parent {
		row.Kind, row.Parent = db.ImportParent, code
		if kind != qr.Parent {
			row.Refusal = fmt.Sprintf("parent QR %q is invalid: %s", r.code, g.rules.Describe())
			return g.closeParent(row, fmt.Sprintf("its parent row %d has no valid parent QR", rowNo))
		}
		return g.closeParent(row, "")
	}
	row.Kind, row.Child = db.ImportChild, code
	if kind != qr.Child {
		row.Refusal = fmt.Sprintf("child QR %q is invalid: %s", r.code, g.rules.Describe())
		return g.emit(row)
	}
	return g.hold(row)
}

// parentBillRow: a `Bill No.` row closes the parents collected; any other row is a parent.
func (g *grouper) parentBillRow(rowNo int64, r workbookRow) error {
	if isBillLabel(r.label) {
		number := r.billNumber()
		if err := db.CheckBillNumber(number); err != nil {
			refusal := fmt.Sprintf("its Bill No. row %d has no valid bill number (%v)", rowNo, err)
			return g.release(func(parent *db.ImportRow) { parent.Refusal = refusal })
		}
		return g.release(func(parent *db.ImportRow) { parent.Bill = number })
	}
	code := qr.Normalize(r.code)
	row := g.base(rowNo, r)
	row.Kind, row.Parent = db.ImportParent, code
	if g.rules.Classify(code) != qr.Parent {
		row.Refusal = fmt.Sprintf("parent QR %q is invalid: %s", r.code, g.rules.Describe())
		return g.emit(row)
	}
	return g.hold(row)
}

// hold keeps a row until its closing row; past maxOpenRows the oldest is refused.
func (g *grouper) hold(row db.ImportRow) error {
	g.open = append(g.open, row)
	if len(g.open) <= maxOpenRows {
		return nil
	}
	oldest := g.open[0]
	g.open = g.open[1:]
	oldest.Refusal = fmt.Sprintf("no closing row within %d rows (a parent holds at most a few dozen children)", maxOpenRows)
	return g.emit(oldest)
}

// closeParent emits the parent row and then the children it closes, each refused with
// refusal when that is set.
func (g *grouper) closeParent(parent db.ImportRow, refusal string) error {
	if err := g.emit(parent); err != nil {
		return err
	}
	return g.release(func(child *db.ImportRow) { child.Parent, child.Refusal = parent.Parent, refusal })
}

// endOfSheet refuses the rows no closing row closed.
func (g *grouper) endOfSheet() error {
	closing := "`Parent Code` (parent) row"
	if g.format == db.ImportParentBillWorkbook {
		closing = "`Bill No.` row"
	}
	return g.release(func(row *db.ImportRow) {
		row.Refusal = fmt.Sprintf("no %s closes it before the end of sheet %s", closing, g.sheet)
	})
}

// release emits the rows held, each as settle completes it.
func (g *grouper) release(settle func(*db.ImportRow)) error {
	open := g.open
	g.open = nil
	for _, row := range open {
		settle(&row)
		if err := g.emit(row); err != nil {
			return err
		}
	}
	return nil
}
