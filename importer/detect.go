// Package importer reads the old system's files (the child-to-parent and parent-to-bill
// workbooks, the bags and bills CSVs) into rows the store imports (db.ImportRow), and runs an
// import as a job: the file is read as a stream and its rows go to the store in chunks, each
// judged set-based and committed with the job's counters (db.Store.ImportChunk). The rules of
// what a row may do live where they live for scanning: QR formats in qr, bill rules in db,
// the invariants in the database; this package only says what each row asks for.
package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/qr"
)

// Columns of the old system's CSV exports, which tell the two CSV formats apart.
var (
	bagsColumns  = []string{"qr_id", "type", "parent_qr_id"}
	billsColumns = []string{"bill_id", "description", "parent_bag_count", "expected_weight_kg"}
)

// zipMagic starts every .xlsx (a zip archive).
var zipMagic = []byte("PK\x03\x04")

// errUnknownFormat says what files are accepted.
func errUnknownFormat(why string) error {
	return apperr.New(apperr.BadUserInput, "%s: import takes an .xlsx workbook (child QRs closed by `Parent Code` "+
		"rows, or parent QRs closed by `Bill No.` rows), a bags CSV with the header %s or a bills CSV with the header %s",
		why, strings.Join(bagsColumns, ","), strings.Join(billsColumns, ","))
}

// Detect tells the format of the file from its content (never from its name): a workbook by
// the zip signature and then by its rows (workbookFormat, classifying QRs by rules), a CSV by
// its header row.
func Detect(path string, rules qr.Rules) (db.ImportFormat, error) {
	format, book, err := detectOpen(path, rules)
	if book != nil {
		book.Close()
	}
	return format, err
}

// detectOpen is Detect that also returns a workbook opened (nil for a CSV), for the caller to
// read and close: opening unzips the worksheets (a 1M-row sheet is 120 MB of XML), once.
func detectOpen(path string, rules qr.Rules) (db.ImportFormat, *excelize.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	head := make([]byte, len(zipMagic))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", nil, err
	}
	if bytes.Equal(head[:n], zipMagic) {
		book, err := openWorkbook(path)
		if err != nil {
			return "", nil, errUnknownFormat("the file looks like a workbook but cannot be opened (" + err.Error() + ")")
		}
		format, err := workbookFormat(book, rules)
		if err != nil {
			book.Close()
			return "", nil, err
		}
		return format, book, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", nil, err
	}
	format, err := csvFormat(f)
	return format, nil, err
}

// csvFormat reads the header row of a CSV.
func csvFormat(r io.Reader) (db.ImportFormat, error) {
	header, err := newCSVReader(bufio.NewReader(r)).Read()
	if errors.Is(err, io.EOF) {
		return "", errUnknownFormat("the file is empty")
	}
	if err != nil {
		return "", errUnknownFormat("the file is neither a workbook nor a CSV")
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = headerName(h)
	}
	switch {
	case slices.Equal(names, bagsColumns):
		return db.ImportBagsCSV, nil
	case slices.Equal(names, billsColumns):
		return db.ImportBillsCSV, nil
	}
	return "", errUnknownFormat("the CSV header " + quoteCells(header, 120) + " is not one of the old system's exports")
}

// headerName is a header cell as compared: without a byte-order mark, spaces or case.
func headerName(cell string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff")))
}

func newCSVReader(r io.Reader) *csv.Reader {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1 // a row of the wrong width is refused as a row, not as the file
	c.LazyQuotes = true
	c.ReuseRecord = true
	return c
}

// quoteCells is a row as a report shows it: its cells joined by commas, cut at limit runes.
func quoteCells(cells []string, limit int) string {
	joined := []rune(strings.Join(cells, ","))
	if len(joined) > limit {
		return string(joined[:limit]) + "…"
	}
	return string(joined)
}
