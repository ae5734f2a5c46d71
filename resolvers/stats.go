package resolvers

import (
	"time"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/graph/model"
)

// Reporting ranges: the default window and the longest one a summary may ask for.
const (
	defaultSummaryWindow = 7 * 24 * time.Hour
	maxSummaryWindow     = 366 * 24 * time.Hour
)

// summaryRange fills in a summary's [from, to) (default: the 7 days up to now) and checks it.
func (r *Resolver) summaryRange(from, to *time.Time) (time.Time, time.Time, error) {
	end := r.now()
	if to != nil {
		end = *to
	}
	start := end.Add(-defaultSummaryWindow)
	if from != nil {
		start = *from
	}
	if !start.Before(end) {
		return start, end, apperr.New(apperr.BadUserInput, "from (%s) must be before to (%s)",
			start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	if end.Sub(start) > maxSummaryWindow {
		return start, end, apperr.New(apperr.BadUserInput, "a summary covers at most 366 days; narrow from and to")
	}
	return start, end, nil
}

// billAggregates maps bill totals, with the weights of db.Weights as the Bill fields have.
func (r *Resolver) billAggregates(rows []db.BillTotals) []*model.BillAggregate {
	weights := r.Config.Weights()
	out := make([]*model.BillAggregate, len(rows))
	for i, t := range rows {
		out[i] = &model.BillAggregate{Key: t.Key, Bills: t.Bills, ParentBags: t.ParentBags, ChildBags: t.ChildBags,
			TotalWeightKg:    weights.BillTotal(t.ChildBags),
			ExpectedWeightKg: weights.BillExpected(t.Capacity),
			CompletedBills:   t.CompletedBills}
	}
	return out
}

// scanAggregates maps scan counts.
func scanAggregates(rows []db.ScanCount) []*model.ScanAggregate {
	out := make([]*model.ScanAggregate, len(rows))
	for i, c := range rows {
		out[i] = &model.ScanAggregate{Key: c.Key, Count: c.Count}
	}
	return out
}
