package importer

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"

	"golang.org/x/sync/errgroup"

	"tracetrack/db"
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
}

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
	// Started is the job as recorded at the start.
	Started *db.ImportJob
}

// Start checks the file (its format, from its content), records the job and returns it,
// ready to Run. A file of no known format is BAD_USER_INPUT, and no job is recorded.
func (im *Importer) Start(ctx context.Context, req Request) (*Job, error) {
	format, err := Detect(req.Path)
	if err != nil {
		return nil, err
	}
	sum, size, err := fileDigest(req.Path)
	if err != nil {
		return nil, err
	}
	estimate := csvRows
	if format == db.ImportChildParentWorkbook || format == db.ImportParentBillWorkbook {
		estimate = workbookRows
	}
	started, err := im.Store.StartImportJob(ctx, req.Actor, db.NewImportJob{FileName: req.FileName, SHA256: sum,
		Bytes: size, Format: format, AreaID: req.AreaID, RowsTotal: estimate(req.Path)})
	if err != nil {
		return nil, err
	}
	return &Job{im: im, req: req, format: format, Started: started}, nil
}

// Run reads the file and imports its rows chunk by chunk, then finishes the job (DONE, or
// FAILED when the file could not be read to its end or the database failed) and returns it.
// The error is that failure; the chunks committed before it stay (importing the file again
// completes it: what is there already is counted, not created twice).
func (j *Job) Run(ctx context.Context) (*db.ImportJob, error) {
	failure := j.readAll(ctx)
	// the job is finished even when ctx ended (a server shutting down), so it never stays RUNNING
	finished, err := j.im.Store.FinishImportJob(context.WithoutCancel(ctx), j.req.Actor, j.Started.ID, failure)
	if err != nil {
		return nil, errors.Join(failure, err)
	}
	return finished, failure
}

// readAll reads the file in one goroutine and imports its chunks in another, so parsing
// the next chunk overlaps the database's work on this one; at most two chunks are in
// memory at once (the one imported and the one being filled), whatever the file's size.
func (j *Job) readAll(ctx context.Context) error {
	size := j.im.ChunkRows
	if size <= 0 {
		size = DefaultChunkRows
	}
	group, ctx := errgroup.WithContext(ctx)
	chunks := make(chan []db.ImportRow)
	group.Go(func() error {
		defer close(chunks)
		chunk := make([]db.ImportRow, 0, size)
		send := func() error {
			select {
			case chunks <- chunk:
				chunk = make([]db.ImportRow, 0, size)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		emit := func(row db.ImportRow) error {
			chunk = append(chunk, row)
			if len(chunk) == size {
				return send()
			}
			return nil
		}
		read := readCSV
		if j.format == db.ImportChildParentWorkbook || j.format == db.ImportParentBillWorkbook {
			read = readWorkbook
		}
		if err := read(ctx, j.req.Path, j.format, emit); err != nil {
			return err
		}
		if len(chunk) == 0 {
			return nil
		}
		return send()
	})
	group.Go(func() error {
		for chunk := range chunks {
			if err := j.im.Store.ImportChunk(ctx, j.req.Actor, j.Started.ID, j.im.Settings, j.req.AreaID, chunk); err != nil {
				return err
			}
			if err := j.report(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return group.Wait()
}

// report hands the job's progress to the request's Progress.
func (j *Job) report(ctx context.Context) error {
	if j.req.Progress == nil {
		return nil
	}
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
