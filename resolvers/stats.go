package resolvers

import (
	"tracetrack/db"
	"tracetrack/graph/model"
)

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
