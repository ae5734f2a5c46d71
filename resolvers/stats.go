package resolvers

import (
	"context"
	"time"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/graph/model"
)

// Reporting ranges: the default window and the longest one a summary may ask for.
const (
	defaultSummaryWindow = 7 * 24 * time.Hour
	maxSummaryWindow     = 366 * 24 * time.Hour
)

// readableArea returns the area the caller may read for the asked code (db.ReadableArea).
func (r *Resolver) readableArea(ctx context.Context, code *string) (*int64, error) {
	user, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	return r.Store.ReadableArea(ctx, user, code)
}

// businessDay is [local midnight, next local midnight) of t's day in the business time zone.
func (r *Resolver) businessDay(t time.Time) (time.Time, time.Time) {
	local := t.In(r.Config.BusinessTimeZone)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, r.Config.BusinessTimeZone)
	return start, start.AddDate(0, 0, 1)
}

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

// StatsFor returns the stats of an area (nil: all areas) with today's business day; the stats
// query and statsUpdated subscriptions share it.
func (r *Resolver) StatsFor(ctx context.Context, areaID *int64) (*model.Stats, error) {
	dayStart, dayEnd := r.businessDay(r.now())
	st, err := r.Store.Stats(ctx, areaID, dayStart, dayEnd)
	if err != nil {
		return nil, err
	}
	return statsOf(st), nil
}

// statsOf maps the store's counters.
func statsOf(st *db.StatCounters) *model.Stats {
	return &model.Stats{ParentBags: st.ParentBags, ChildBags: st.ChildBags,
		Bills:     st.OpenBills + st.InProgressBills + st.CompletedBills,
		OpenBills: st.OpenBills, InProgressBills: st.InProgressBills, CompletedBills: st.CompletedBills,
		TotalScans: st.TotalScans, ScansToday: st.ScansToday, Users: st.Users}
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
