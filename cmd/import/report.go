package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"os"

	"tracetrack/db"
	"tracetrack/export"
	"tracetrack/importer"
)

// writeReport writes the job's refused rows to FILE.report.csv beside the file (the report
// GET /import/<id>/report.csv serves) and returns its path; "" when nothing was refused.
func writeReport(ctx context.Context, store *db.Store, job *db.ImportJob, path string) (string, error) {
	if job.RowsRefused == 0 {
		return "", nil
	}
	name := path + ".report.csv"
	f, err := os.Create(name)
	if err != nil {
		return "", err
	}
	buffered := bufio.NewWriter(f)
	out := csv.NewWriter(buffered)
	err = out.Write(importer.ReportColumns)
	if err == nil {
		err = store.ImportRefusals(ctx, job.ID, func(r *db.ImportRefusal) error {
			record := importer.ReportRecord(r)
			for i, cell := range record {
				record[i] = export.Neutralize(cell)
			}
			return out.Write(record)
		})
	}
	out.Flush()
	err = errors.Join(err, out.Error(), buffered.Flush(), f.Close())
	return name, err
}
