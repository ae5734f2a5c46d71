package export

import (
	"encoding/csv"
	"log/slog"
	"net/http"
)

// csvStream writes CSV rows to a response, flushing every flushEvery rows.
type csvStream struct {
	w    http.ResponseWriter
	csv  *csv.Writer
	rows int
}

// startCSV sends the headers and the header row.
func startCSV(w http.ResponseWriter, filename string, header []string) (*csvStream, error) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	s := &csvStream{w: w, csv: csv.NewWriter(w)}
	return s, s.csv.Write(header)
}

// row writes one record.
func (s *csvStream) row(record []string) error {
	if err := s.csv.Write(record); err != nil {
		return err
	}
	s.rows++
	if s.rows%flushEvery == 0 {
		return s.flush()
	}
	return nil
}

func (s *csvStream) flush() error {
	s.csv.Flush()
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
	return s.csv.Error()
}

// finish flushes the rest, or, when the export failed midway, aborts the connection so the
// client sees a broken download instead of a file that silently lacks rows.
func (s *csvStream) finish(r *http.Request, err error) {
	if err == nil {
		err = s.flush()
	}
	if err != nil {
		slog.Default().ErrorContext(r.Context(), "export aborted", "path", r.URL.Path, "rows", s.rows, "err", err)
		panic(http.ErrAbortHandler)
	}
}
