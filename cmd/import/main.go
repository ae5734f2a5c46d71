// Command import loads the old system's files into a TraceTrack database, for files too
// large to upload:
//
//	go run ./cmd/import -database-url URL [-area CODE] FILE...
//
// Each file is one import job (as an upload to POST /import is): child-to-parent and
// parent-to-bill workbooks (.xlsx), bags CSVs (qr_id,type,parent_qr_id) and bills CSVs
// (bill_id,description,parent_bag_count,expected_weight_kg), told apart by their content.
// Progress goes to stderr while a file is read; then one summary line per file to stdout:
// rows read, bags and links created, rows refused and where their report is (FILE.report.csv
// beside the file, and GET /import/<id>/report.csv on the server). The exit status is 0 when
// every file could be read, whatever rows it refused, and 1 when one could not.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"tracetrack/db"
	"tracetrack/importer"
	"tracetrack/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cliWorkers: the command runs on its own, so it takes one chunk worker more than the
// server's imports (importer.DefaultWorkers): on the shared 2 cores, 1M rows in 14.8 s with
// three against 19.7 s with two, the same CPU (bench/README.md).
const cliWorkers = importer.DefaultWorkers + 1

type options struct {
	databaseURL       string
	area              string
	childrenPerParent int
	chunkRows         int
	workers           int
	files             []string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	flags := flag.NewFlagSet("import", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&o.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL of the TraceTrack database (migrated here if needed)")
	flags.StringVar(&o.area, "area", "", "dispatch area code of the parents the import creates (e.g. lucknow); existing parents must be in it")
	flags.IntVar(&o.childrenPerParent, "children-per-parent", 30, "capacity of the parents the import creates (the server's CHILDREN_PER_PARENT)")
	flags.IntVar(&o.chunkRows, "chunk-rows", importer.DefaultChunkRows, "rows per transaction")
	flags.IntVar(&o.workers, "workers", cliWorkers, "chunks imported at once (database connections)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: import -database-url URL [-area CODE] FILE...")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	o.files = flags.Args()
	switch {
	case o.databaseURL == "":
		return o, errors.New("-database-url (or DATABASE_URL) is required")
	case len(o.files) == 0:
		return o, errors.New("name at least one file to import")
	case o.childrenPerParent < 1 || o.childrenPerParent > 1000:
		return o, fmt.Errorf("-children-per-parent is 1-1000, got %d", o.childrenPerParent)
	case o.chunkRows < 1:
		return o, fmt.Errorf("-chunk-rows must be at least 1, got %d", o.chunkRows)
	case o.workers < 1 || o.workers > 16:
		return o, fmt.Errorf("-workers is 1-16, got %d", o.workers)
	}
	return o, nil
}

// run imports every file and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "import:", err)
		}
		return 2
	}
	store, err := db.Open(ctx, o.databaseURL, o.workers+2)
	if err != nil {
		fmt.Fprintln(stderr, "import:", err)
		return 1
	}
	defer store.Close()
	if err := migrations.Apply(ctx, store.DB()); err != nil {
		fmt.Fprintln(stderr, "import:", err)
		return 1
	}
	areaID, err := store.AreaIDOfCode(ctx, &o.area)
	if err != nil {
		fmt.Fprintln(stderr, "import: -area:", err)
		return 2
	}
	im := &importer.Importer{Store: store, Settings: db.ImportSettings{ChildrenPerParent: o.childrenPerParent},
		ChunkRows: o.chunkRows, Workers: o.workers}
	status := 0
	for _, path := range o.files {
		err := importFile(ctx, im, path, areaID, stdout, stderr)
		if err != nil && !errors.Is(err, errSummarized) {
			fmt.Fprintf(stdout, "%s: not imported: %v\n", path, err)
		}
		if err != nil {
			status = 1
		}
	}
	return status
}

// errSummarized: the file's job failed, and its summary line says why.
var errSummarized = errors.New("the job failed")

// importFile imports one file and prints its summary line.
func importFile(ctx context.Context, im *importer.Importer, path string, areaID *int64, stdout, stderr io.Writer) error {
	progress := &progressLine{out: stderr, path: path}
	job, err := im.Start(ctx, importer.Request{Actor: db.System, Path: path, FileName: filepath.Base(path),
		AreaID: areaID, Progress: progress.show})
	if err != nil {
		return err
	}
	finished, err := job.Run(ctx)
	progress.end()
	if finished == nil {
		return err
	}
	report, reportErr := writeReport(ctx, im.Store, finished, path)
	fmt.Fprintln(stdout, summary(path, finished, report))
	if err != nil {
		return errSummarized
	}
	return reportErr
}

// progressLine prints a job's progress on one line of the terminal, at most every second.
type progressLine struct {
	out   io.Writer
	path  string
	shown time.Time
	wrote bool
}

func (p *progressLine) show(job *db.ImportJob) {
	now := time.Now()
	if now.Sub(p.shown) < time.Second {
		return
	}
	p.shown, p.wrote = now, true
	line := fmt.Sprintf("%s: %d rows", p.path, job.RowsRead)
	if job.RowsTotalEstimate != nil && *job.RowsTotalEstimate > 0 {
		line += fmt.Sprintf(" of ~%d (%.0f%%)", *job.RowsTotalEstimate, 100*float64(job.RowsRead)/float64(*job.RowsTotalEstimate))
	}
	line += fmt.Sprintf(", %.0f rows/s", job.RowsPerSecond(now))
	if left := job.Remaining(now); left != nil {
		line += ", ETA " + left.Round(time.Second).String()
	}
	fmt.Fprintf(p.out, "\r%-100s", line)
}

func (p *progressLine) end() {
	if p.wrote {
		fmt.Fprintln(p.out)
	}
}

// summary is a file's line: what was read, created and refused, and where the report is.
func summary(path string, job *db.ImportJob, report string) string {
	line := fmt.Sprintf("%s: job %d, %s: %d rows read in %s (%.0f rows/s), %d bags created (%d parents, %d children), "+
		"%d links created (%d children in parents, %d parents on bills), %d bills created, %d rows already there, %d rows refused",
		path, job.ID, job.Format, job.RowsRead, job.Elapsed(time.Now()).Round(10*time.Millisecond), job.RowsPerSecond(time.Now()),
		job.BagsCreated(), job.ParentsCreated, job.ChildrenCreated, job.LinksCreated(), job.ChildrenCreated,
		job.BillLinksCreated, job.BillsCreated, job.RowsAlreadyThere, job.RowsRefused)
	if report != "" {
		line += fmt.Sprintf(" (report: %s, or GET /import/%d/report.csv)", report, job.ID)
	}
	if job.AlreadyImported() {
		line += "; already imported: nothing changed"
	}
	if job.PreviousJobID != nil {
		line += fmt.Sprintf("; this file was imported before by job %d", *job.PreviousJobID)
	}
	if job.Error != nil {
		line += "; FAILED: " + *job.Error
	}
	return line
}
