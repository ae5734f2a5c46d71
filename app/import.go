package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/export"
	"tracetrack/importer"
	"tracetrack/internal/gid"
	"tracetrack/internal/scalar"
	"tracetrack/resolvers"
)

// ImportOptions bound the uploads of POST /import.
type ImportOptions struct {
	// MaxBytes is the largest file accepted (zero: DefaultImportMaxBytes).
	MaxBytes int64
}

// DefaultImportMaxBytes is the default upload limit: a workbook of a million rows is about
// 15 MB, a CSV of a million rows about 30 MB.
const DefaultImportMaxBytes = 256 << 20

// uploadTimeout is how long an upload may take to arrive: the server's ReadTimeout is
// sized for API requests, not for a file of hundreds of megabytes on a slow line.
const uploadTimeout = 15 * time.Minute

// imports runs the jobs that uploads start, in the background, until the app shuts down.
type imports struct {
	importer *importer.Importer
	maxBytes int64
	logger   *slog.Logger
	// ctx ends at shutdown: a running job stops and is finished FAILED (upload it again)
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
}

func newImports(store *db.Store, opts ImportOptions, childrenPerParent int, logger *slog.Logger) *imports {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultImportMaxBytes
	}
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &imports{importer: &importer.Importer{Store: store, Settings: db.ImportSettings{ChildrenPerParent: childrenPerParent}},
		maxBytes: opts.MaxBytes, logger: logger, ctx: ctx, cancel: cancel}
}

// stop ends the running jobs and waits until each is finished.
func (im *imports) stop() {
	im.cancel()
	im.running.Wait()
}

// routeImports registers POST /import and the report downloads.
func (a *App) routeImports(limiter *rateLimiter, exports *export.Handler) {
	signedIn := func(path string, h http.Handler) http.Handler {
		return countResponses(path, a.sessions.middleware(limiter, limiter.middleware(h)))
	}
	a.mux.Handle("POST /import", signedIn("/import", http.HandlerFunc(a.imports.upload)))
	for _, format := range export.Formats {
		path := "/import/{id}/report." + string(format)
		a.mux.Handle("GET "+path, signedIn(path, exports.ImportReport(format)))
	}
}

// uploadAnswer is what POST /import answers: the job, to poll with importJob(id).
type uploadAnswer struct {
	ID         string          `json:"id"`
	Status     db.ImportStatus `json:"status"`
	Format     db.ImportFormat `json:"format"`
	ReportCSV  string          `json:"reportCsvPath"`
	ReportXLSX string          `json:"reportXlsxPath"`
}

// upload serves POST /import[?area=CODE]: an admin's multipart/form-data upload whose field
// `file` is streamed to a temporary file (never held in memory), checked for its format and
// imported in the background. The answer (202) is the job's id; the job's progress is read
// through importJob(id).
func (im *imports) upload(w http.ResponseWriter, r *http.Request) {
	actor := auth.ActorFrom(r.Context())
	if err := db.MayImport(actor); err != nil {
		writeGraphQLError(w, r, im.logger, err)
		return
	}
	if r.ContentLength > im.maxBytes {
		writeTooLarge(w, r, im.maxBytes)
		return
	}
	areaCode, err := uploadArea(r.URL.Query())
	if err != nil {
		writeGraphQLError(w, r, im.logger, err)
		return
	}
	areaID, err := im.importer.Store.AreaIDOfCode(r.Context(), &areaCode)
	if err != nil {
		writeGraphQLError(w, r, im.logger, err)
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, im.maxBytes)
	path, name, err := saveUpload(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeTooLarge(w, r, im.maxBytes)
			return
		}
		writeGraphQLError(w, r, im.logger, err)
		return
	}
	job, err := im.importer.Start(r.Context(), importer.Request{Actor: actor, Path: path, FileName: name, AreaID: areaID})
	if err != nil {
		os.Remove(path)
		writeGraphQLError(w, r, im.logger, err)
		return
	}
	im.running.Add(1)
	go im.run(job, path)
	writeJSON(w, http.StatusAccepted, uploadAnswer{ID: gid.Encode(gid.ImportJob, job.Started.ID), Status: job.Started.Status,
		Format: job.Started.Format, ReportCSV: resolvers.ImportReportPath(job.Started.ID, string(export.CSV)),
		ReportXLSX: resolvers.ImportReportPath(job.Started.ID, string(export.XLSX))})
}

// run imports the uploaded file, then removes it.
func (im *imports) run(job *importer.Job, path string) {
	defer im.running.Done()
	defer os.Remove(path)
	finished, err := job.Run(im.ctx)
	if err != nil {
		im.logger.Warn("import failed", "job", job.Started.ID, "file", job.Started.FileName, "err", err)
		return
	}
	im.logger.Info("import done", "job", finished.ID, "file", finished.FileName, "rows", finished.RowsRead,
		"refused", finished.RowsRefused, "bags", finished.BagsCreated(), "links", finished.LinksCreated())
}

// uploadArea reads the one parameter POST /import takes. Any other is refused: areaCode, as
// the API spells it elsewhere, imported the parents in no area.
func uploadArea(query url.Values) (string, error) {
	for name, values := range query {
		if name != "area" {
			return "", badRequest("unknown parameter %s; POST /import takes only area (a dispatch area code, such as ?area=lucknow)", scalar.Quote(name))
		}
		if len(values) > 1 {
			return "", badRequest("area is given %d times; give it once", len(values))
		}
	}
	return query.Get("area"), nil
}

// errNotMultipart says how to send a file.
func errNotMultipart() error {
	return apperr.New(apperr.BadUserInput, "send the file as multipart/form-data in the field `file` "+
		"(curl -F file=@bags.xlsx ...)").WithStatus(http.StatusUnsupportedMediaType)
}

// saveUpload copies the multipart field `file` to a temporary file, part by part as it
// arrives, and returns its path and the name the client gave it.
func saveUpload(r *http.Request) (path, name string, err error) {
	if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType != "multipart/form-data" {
		return "", "", errNotMultipart()
	}
	parts, err := r.MultipartReader()
	if err != nil {
		return "", "", errNotMultipart()
	}
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return "", "", apperr.New(apperr.BadUserInput, "the upload has no field `file`; send the file in it")
		}
		if err != nil {
			return "", "", uploadBroken(err)
		}
		if part.FormName() != "file" {
			continue
		}
		path, err := copyToTemp(part)
		return path, filepath.Base(part.FileName()), err
	}
}

func copyToTemp(src io.Reader) (string, error) {
	f, err := os.CreateTemp("", "tracetrack-import-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, src)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", uploadBroken(err)
	}
	return f.Name(), nil
}

// uploadBroken: an upload that stopped midway (or outgrew the limit, which stays as it is).
func uploadBroken(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return apperr.New(apperr.BadUserInput, "the upload broke off before its end; send the file again")
}
