package export

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"time"

	"tracetrack/db"
)

// csvStream writes CSV rows to a response, flushing every flushEvery rows. Its writes run
// under a deadline that moves on as the writes go out (deadlineWriter), so a client that takes nothing for
// writeTimeout ends its download instead of keeping it, while the time the store takes to
// read a batch never counts against the client.
type csvStream struct {
	w       http.ResponseWriter
	control *http.ResponseController
	csv     *csv.Writer
	rows    int
}

// rowWriter takes an export's records, one at a time: a csvStream or an xlsxStream.
type rowWriter interface {
	row(record []string) error
}

// stream serves one export to the user as name.csv or name.xlsx: it takes one of their export
// slots (or refuses with RATE_LIMITED), starts the file with the header row, lets rows write
// the rest and finishes the download.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, user *db.User, format Format, name string,
	header []string, rows func(rowWriter) error) {
	done, err := h.limits.begin(user.ID)
	if err != nil {
		refuse(w, r, err)
		return
	}
	defer done()
	filename := name + "." + string(format)
	if format == XLSX {
		book, err := newXLSX(header, sheetRows)
		if err == nil {
			err = rows(book)
		}
		book.send(w, r, filename, h.limits.limits.WriteTimeout, err)
		return
	}
	out, err := h.startCSV(w, filename, header)
	if err == nil {
		err = rows(out)
	}
	out.finish(r, err)
}

// startCSV sends the headers and the header row.
func (h *Handler) startCSV(w http.ResponseWriter, filename string, header []string) (*csvStream, error) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	control := http.NewResponseController(w)
	// the CSV writer's buffer goes out through deadlineWriter, which moves the deadline on
	// just before each write to the client
	s := &csvStream{w: w, control: control,
		csv: csv.NewWriter(&deadlineWriter{w: w, control: control, timeout: h.limits.limits.WriteTimeout})}
	return s, s.csv.Write(header)
}

// row writes one record, every cell neutralised against spreadsheet formulas.
func (s *csvStream) row(record []string) error {
	for i, cell := range record {
		record[i] = Neutralize(cell)
	}
	if err := s.csv.Write(record); err != nil {
		return err
	}
	s.rows++
	if s.rows%flushEvery == 0 {
		return s.flush()
	}
	return nil
}

// flush sends what is buffered.
func (s *csvStream) flush() error {
	s.csv.Flush()
	if err := s.csv.Error(); err != nil {
		return err
	}
	return s.control.Flush()
}

// finish flushes the rest and ends the download (endDownload).
func (s *csvStream) finish(r *http.Request, err error) {
	if err == nil {
		err = s.flush()
	}
	// until a row is written the header row is still in the CSV writer's buffer
	endDownload(s.w, r, s.control, s.rows > 0, err, "rows", s.rows)
}

// endDownload ends a streamed download (CSV, EPCIS). An export refused before anything
// reached the client (a filter the store refuses, a database that is down) is answered with
// the refusal's status and message; one that failed midway (a client that stopped reading, a
// database error) aborts the connection so the client sees a broken download instead of a
// file that silently lacks rows. logged names what was written, for the log.
func endDownload(w http.ResponseWriter, r *http.Request, control *http.ResponseController, sent bool, err error, logged ...any) {
	if err == nil {
		// the download is complete: its last deadline must not cut what the connection does next
		err = control.SetWriteDeadline(time.Time{})
	}
	if err != nil && !sent {
		w.Header().Del("Content-Disposition")
		refuse(w, r, err)
		return
	}
	if err != nil {
		slog.Default().WarnContext(r.Context(), "export aborted", append([]any{"path", r.URL.Path, "err", err}, logged...)...)
		panic(http.ErrAbortHandler)
	}
}
