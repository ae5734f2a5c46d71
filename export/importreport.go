package export

import (
	"net/http"
	"strconv"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/importer"
)

// ImportReport serves GET /import/{id}/report.csv (and .xlsx): the refused rows of an import
// job (sheet, row, input, reason) in file order, to admins, streamed as the other exports are.
func (h *Handler) ImportReport(format Format) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := caller(r)
		if err == nil {
			err = db.MayImport(auth.ActorFrom(r.Context()))
		}
		if err != nil {
			refuse(w, r, err)
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			refuse(w, r, apperr.New(apperr.NotFound, "there is no import job %q; the path is /import/<job number>/report.%s", r.PathValue("id"), format))
			return
		}
		if _, err := h.Store.ImportJob(r.Context(), id); err != nil {
			refuse(w, r, err)
			return
		}
		h.stream(w, r, user, format, "import-"+strconv.FormatInt(id, 10)+"-report", importer.ReportColumns, func(out rowWriter) error {
			return h.Store.ImportRefusals(r.Context(), id, func(ref *db.ImportRefusal) error {
				return out.row(importer.ReportRecord(ref))
			})
		})
	}
}
