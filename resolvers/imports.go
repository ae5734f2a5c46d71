package resolvers

import (
	"strconv"

	"tracetrack/db"
	"tracetrack/graph/model"
)

// ImportReportPath is where a job's report of refused rows is downloaded (app/import.go
// serves it) in the format ("csv" or "xlsx").
func ImportReportPath(jobID int64, format string) string {
	return "/import/" + strconv.FormatInt(jobID, 10) + "/report." + format
}

func importJobConnection(jobs []*db.ImportJob, hasNext bool) *model.ImportJobConnection {
	conn := &model.ImportJobConnection{Edges: make([]*model.ImportJobEdge, len(jobs)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, j := range jobs {
		conn.Edges[i] = &model.ImportJobEdge{Cursor: encodeCursor(j.ID), Node: j}
	}
	if n := len(jobs); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}
