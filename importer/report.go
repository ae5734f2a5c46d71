package importer

import (
	"strconv"

	"tracetrack/db"
)

// ReportColumns head a job's report of refused rows (CSV and Excel alike).
var ReportColumns = []string{"sheet", "row", "input", "reason"}

// ReportRecord is a refused row as the report lists it.
func ReportRecord(r *db.ImportRefusal) []string {
	return []string{r.Sheet, strconv.FormatInt(r.RowNo, 10), r.Input, r.Reason}
}
