package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/xuri/excelize/v2"
	"golang.org/x/sync/errgroup"

	"tracetrack/db"
	"tracetrack/internal/scalar"
	"tracetrack/qr"
)

// DefaultChunkRows is how many rows go to the store in one transaction: large enough that
// the set-based statements dominate the round trips, small enough that a chunk's rows stay a
// few megabytes and a running job shows progress every second or so.
const DefaultChunkRows = 20000

// Importer runs imports into a store.
type Importer struct {
	Store    *db.Store
	Settings db.ImportSettings
	// ChunkRows is the rows per transaction (0: DefaultChunkRows).
	ChunkRows int
	// Workers is how many chunks are imported at once, each in its own transaction
	// (0: DefaultWorkers). Chunks meet in file order where they share a parent or a bill
	// (db.LockTurn); a child named in two parents in chunks imported at once goes to the
	// parent whose chunk inserts it first.
	Workers int
}

// DefaultWorkers: two chunks at once keep two cores busy (the database's work on one chunk
// while the other is judged), and parsing overlaps both.
const DefaultWorkers = 2

// Request is one file to import.
type Request struct {
	Actor db.Actor
	// Path is the file; FileName the name it is known by (an upload's name).
	Path     string
	FileName string
	AreaID   *int64
	// Progress, if set, is called with the job after each chunk.
	Progress func(*db.ImportJob)
}

// Job is an import that has started: its format is known and its job recorded.
type Job struct {
	im     *Importer
	req    Request
	format db.ImportFormat
	// rules classify the file's QRs: the store's label series when the job started, as
	// scanning classifies them.
	rules qr.Rules
	// book is the workbook, opened by Start and closed by Run (nil for a CSV)
	book *excelize.File
	// Started is the job as recorded at the start.
	Started   *db.ImportJob
	reporting sync.Mutex
}

// Start checks the file (its format, from its content), records the job and returns it,
// ready to Run (which must follow). A file of no known format is BAD_USER_INPUT, and no job
// is recorded.
func (im *Importer) Start(ctx context.Context, req Request) (*Job, error) {
	rules, err := im.Store.QRRules(ctx)
	if err != nil {
		return nil, err
	}
	format, book, err := detectOpen(req.Path, rules)
	if err != nil {
		return nil, err
	}
	job, err := im.start(ctx, req, rules, format, book)
	if err != nil && book != nil {
		book.Close()
	}
	return job, err
}

func (im *Importer) start(ctx context.Context, req Request, rules qr.Rules, format db.ImportFormat, book *excelize.File) (*Job, error) {
	sum, size, err := fileDigest(req.Path)
	if err != nil {
		return nil, err
	}
	estimate := csvRows(req.Path)
	if book != nil {
		estimate = workbookRows(book, req.Path)
	}
	started, err := im.Store.StartImportJob(ctx, req.Actor, db.NewImportJob{FileName: req.FileName, SHA256: sum,
		Bytes: size, Format: format, AreaID: req.AreaID, RowsTotal: estimate})
	if err != nil {
		return nil, err
	}
	return &Job{im: im, req: req, format: format, rules: rules, book: book, Started: started}, nil
}

// Run reads the file and imports its rows chunk by chunk, then finishes the job (DONE, or
// FAILED when the file could not be read to its end or the database failed) and returns it.
// The error is that failure; the chunks committed before it stay (importing the file again
// completes it: what is there already is counted, not created twice).
func (j *Job) Run(ctx context.Context) (*db.ImportJob, error) {
	failure := j.readAll(ctx)
	if j.book != nil {
		j.book.Close()
	}
	// the job is finished even when ctx ended (a server shutting down), so it never stays RUNNING
	finished, err := j.im.Store.FinishImportJob(context.WithoutCancel(ctx), j.req.Actor, j.Started.ID, failure)
	if err != nil {
		return nil, errors.Join(failure, err)
	}
	return finished, failure
}

// readAll reads the file in one goroutine and imports its chunks in Workers others, so
// parsing overlaps the database's work; at most Workers + 1 chunks are in memory at once,
// whatever the file's size.
func (j *Job) readAll(ctx context.Context) error {
	size := j.im.ChunkRows
	if size <= 0 {
		size = DefaultChunkRows
	}
	group, ctx := errgroup.WithContext(ctx)
	chunks := make(chan chunk)
	group.Go(func() error {
		defer close(chunks)
		rows := make([]db.ImportRow, 0, size)
		turn := db.LockTurn{}
		send := func() error {
			turn = db.NextLockTurn(turn)
			select {
			case chunks <- chunk{rows: rows, turn: turn}:
				rows = make([]db.ImportRow, 0, size)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// A full chunk ends where a parent's (or a bill's) rows end, up to twice its size: a
		// parent split over two chunks makes the second wait, at the parent's creation, for
		// the first to commit, and two workers then take turns instead of working at once.
		emit := func(row db.ImportRow) error {
			row = storable(row)
			if n := len(rows); n >= size && (!sameGroup(rows[n-1], row) || n >= 2*size) {
				if err := send(); err != nil {
					return err
				}
			}
			rows = append(rows, row)
			return nil
		}
		read := func() error { return readCSV(ctx, j.req.Path, j.format, j.rules, emit) }
		if j.book != nil {
			read = func() error { return readWorkbook(ctx, j.book, j.format, j.rules, emit) }
		}
		if err := read(); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		return send()
	})
	for range cmp.Or(j.im.Workers, DefaultWorkers) {
		group.Go(func() error {
			for c := range chunks {
				if err := j.im.Store.ImportChunk(ctx, j.req.Actor, j.Started.ID, j.im.Settings, j.req.AreaID, c.rows, c.turn); err != nil {
					return err
				}
				if err := j.report(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return group.Wait()
}

// storable refuses a row holding text PostgreSQL cannot store (a NUL character, bytes that
// are not UTF-8), which the GraphQL API refuses too (scalar.CheckText), and makes its text
// storable for the report: staged as it was, it failed the whole job.
func storable(row db.ImportRow) db.ImportRow {
	fields := []*string{&row.Sheet, &row.Input, &row.Parent, &row.Child, &row.Bill, &row.Description, &row.Refusal}
	clean := true
	for _, f := range fields {
		if scalar.CheckText(*f) != nil {
			clean = false
			*f = strings.ReplaceAll(strings.ToValidUTF8(*f, "\uFFFD"), "\x00", "\uFFFD")
		}
	}
	if !clean && row.Refusal == "" {
		row.Refusal = "the row holds a NUL character or bytes that are not UTF-8 text (shown as \uFFFD); save the file as UTF-8 and import it again"
	}
	return row
}

// sameGroup reports rows of one parent (its row and its children's) or of one bill (its row
// and its parents').
func sameGroup(a, b db.ImportRow) bool {
	return billOf(a) == billOf(b) && (billOf(a) != "" || a.Parent == b.Parent)
}

// billOf is the bill a row creates or puts its parent on ("" for none).
func billOf(r db.ImportRow) string {
	if r.Kind == db.ImportBill || r.Kind == db.ImportParent {
		return r.Bill
	}
	return ""
}

// chunk is a chunk of rows on its way to a worker, with its place in the file's order.
type chunk struct {
	rows []db.ImportRow
	turn db.LockTurn
}

// report hands the job's progress to the request's Progress, one call at a time.
func (j *Job) report(ctx context.Context) error {
	if j.req.Progress == nil {
		return nil
	}
	j.reporting.Lock()
	defer j.reporting.Unlock()
	job, err := j.im.Store.ImportJob(ctx, j.Started.ID)
	if err != nil {
		return err
	}
	j.req.Progress(job)
	return nil
}

// fileDigest is the SHA-256 and size of the file: an import of the same file again is told.
func fileDigest(path string) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return h.Sum(nil), n, err
}
