package export

import (
	"archive/zip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/xuri/excelize/v2"
)

// Format is a download's file format: every export comes as CSV and as Excel.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Formats are the formats of every export, for the routes.
var Formats = []Format{CSV, XLSX}

// xlsxContentType is the media type of an .xlsx workbook.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// sheetRows is Excel's limit of rows a sheet, the header row included: an export that
// outgrows a sheet goes on in the next (Sheet2, ...), each with the header row.
const sheetRows = 1 << 20

// xlsxStream writes rows into a workbook through excelize's stream writer, which spills to a
// temporary file past its buffer, so a million rows take constant memory. A workbook is a zip
// whose directory comes last, so nothing goes to the client before the last row: send writes
// the file at the end. Rows are read in the store's keyset batches as for CSV, so building a
// workbook holds no database connection between batches.
type xlsxStream struct {
	file         *excelize.File
	sheet        *excelize.StreamWriter
	header       []string
	perSheet     int
	sheets, used int
}

func newXLSX(header []string, perSheet int) (*xlsxStream, error) {
	s := &xlsxStream{file: excelize.NewFile(), header: header, perSheet: perSheet}
	return s, s.nextSheet()
}

// nextSheet closes the current sheet and starts the next with the header row.
func (s *xlsxStream) nextSheet() error {
	if s.sheet != nil {
		if err := s.sheet.Flush(); err != nil {
			return err
		}
	}
	s.sheets++
	name := fmt.Sprintf("Sheet%d", s.sheets)
	if s.sheets > 1 {
		if _, err := s.file.NewSheet(name); err != nil {
			return err
		}
	}
	sheet, err := s.file.NewStreamWriter(name)
	if err != nil {
		return err
	}
	s.sheet, s.used = sheet, 0
	return s.put(s.header)
}

// row writes one record, every cell neutralised against spreadsheet formulas as in the CSV
// (cells are text either way: a QR like 0016586 keeps its zeros).
func (s *xlsxStream) row(record []string) error {
	if s.used == s.perSheet {
		if err := s.nextSheet(); err != nil {
			return err
		}
	}
	return s.put(record)
}

func (s *xlsxStream) put(record []string) error {
	cells := make([]any, len(record))
	for i, cell := range record {
		cells[i] = Neutralize(cell)
	}
	s.used++
	at, err := excelize.CoordinatesToCellName(1, s.used)
	if err != nil {
		return err
	}
	return s.sheet.SetRow(at, cells)
}

// send finishes the workbook and writes it to the client. An export that failed before
// (a database error) is refused as any error is, since nothing was sent yet; a client that
// stops reading while the file goes out loses its download, as with CSV.
func (s *xlsxStream) send(w http.ResponseWriter, r *http.Request, filename string, writeTimeout time.Duration, err error) {
	defer s.file.Close() // removes the temporary files
	if err == nil {
		err = s.sheet.Flush()
	}
	if err != nil {
		refuse(w, r, err)
		return
	}
	w.Header().Set("Content-Type", xlsxContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	out := &deadlineWriter{w: w, control: http.NewResponseController(w), timeout: writeTimeout}
	// excelize assembles the zip in a bytes.Buffer before writing it out (the whole file in
	// memory); its zip writer hook lets the archive go straight to the client instead, so
	// the buffer stays empty
	s.file.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(out) })
	if _, err = s.file.WriteTo(io.Discard); err == nil {
		err = out.control.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		slog.Default().WarnContext(r.Context(), "export aborted", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// deadlineWriter moves the write deadline on as the writes get through (CSV and Excel): a
// slow but steady client gets the whole file, one that takes nothing for timeout loses it.
type deadlineWriter struct {
	w        io.Writer
	control  *http.ResponseController
	timeout  time.Duration
	extended time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if time.Since(d.extended) > d.timeout/4 {
		d.extended = time.Now()
		if err := d.control.SetWriteDeadline(d.extended.Add(d.timeout)); err != nil {
			return 0, err
		}
	}
	return d.w.Write(p)
}
