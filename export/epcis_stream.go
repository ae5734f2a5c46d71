package export

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// epcisStream writes an EPCISDocument event by event: the document's head, the events of
// eventList separated by commas, and its tail. Like a CSV download it goes out through
// deadlineWriter and is flushed every flushEvery events, so it takes constant memory and a
// client that takes nothing for the write timeout loses it.
type epcisStream struct {
	w       http.ResponseWriter
	control *http.ResponseController
	buf     *bufio.Writer
	// sent counts the bytes that reached the connection: until then a failure can still be
	// answered as a refusal
	sent   *countingWriter
	events int
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// startEPCIS sets the headers and buffers the document's head.
func (h *Handler) startEPCIS(w http.ResponseWriter, created time.Time) *epcisStream {
	w.Header().Set("Content-Type", "application/ld+json")
	w.Header().Set("Content-Disposition", `attachment; filename="epcis.jsonld"`)
	w.Header().Set("Cache-Control", "no-store")
	control := http.NewResponseController(w)
	sent := &countingWriter{w: &deadlineWriter{w: w, control: control, timeout: h.limits.limits.WriteTimeout}}
	s := &epcisStream{w: w, control: control, sent: sent, buf: bufio.NewWriterSize(sent, 64<<10)}
	head, _ := json.Marshal(created.In(h.EPCIS.Zone).Format("2006-01-02T15:04:05.000Z07:00"))
	_, _ = s.buf.WriteString(`{"@context":["` + epcisContext + `"],"type":"EPCISDocument","schemaVersion":"2.0",` +
		`"creationDate":` + string(head) + `,"epcisBody":{"eventList":[`)
	return s
}

// event appends one event to eventList.
func (s *epcisStream) event(e *epcisEvent) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if s.events > 0 {
		_ = s.buf.WriteByte(',')
	}
	if _, err := s.buf.Write(raw); err != nil {
		return err
	}
	s.events++
	if s.events%flushEvery == 0 {
		return s.flush()
	}
	return nil
}

func (s *epcisStream) flush() error {
	if err := s.buf.Flush(); err != nil {
		return err
	}
	return s.control.Flush()
}

// finish closes the document, sends the rest and ends the download (endDownload: until a
// byte has reached the client a failure is still answered as a refusal).
func (s *epcisStream) finish(r *http.Request, err error) {
	if err == nil {
		_, _ = s.buf.WriteString("]}}\n")
		err = s.flush()
	}
	endDownload(s.w, r, s.control, s.sent.n > 0, err, "events", s.events)
}
