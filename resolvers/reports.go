package resolvers

import (
	"context"
	"time"

	"tracetrack/apperr"
	"tracetrack/db"
	"tracetrack/graph/model"
	"tracetrack/internal/gid"
	"tracetrack/internal/scalar"
	"tracetrack/loaders"
)

// endOfDayReport maps the store's day totals; the day's bills resolve on demand
// (EndOfDayReport.bills) as a page of the bills list over the day's window.
func (r *Resolver) endOfDayReport(date scalar.Date, from, to time.Time, day *db.EndOfDay) *model.EndOfDayReport {
	totals := day.Totals
	totals.Key = date.String()
	return &model.EndOfDayReport{Date: date, From: from, To: to,
		Totals:   r.billAggregates([]db.BillTotals{totals})[0],
		ByStatus: r.billAggregates(day.ByStatus),
		ByUser:   r.billAggregates(day.ByUser)}
}

// userActivity maps the store's activity report of the window.
func userActivity(act *db.UserActivity, w db.ActivityWindows) (*model.UserActivity, error) {
	out := &model.UserActivity{User: act.User, From: w.From, To: w.To, ScansToday: act.ScansToday,
		ScansThisWeek: act.ScansThisWeek, ScansInRange: act.ScansInRange, UniqueBags: act.UniqueBags, LastScan: act.LastScan}
	if act.PeakDay != "" {
		day, err := scalar.ParseDate(act.PeakDay)
		if err != nil {
			return nil, err
		}
		out.PeakDay = &model.DayCount{Date: day, Count: act.PeakDayScans}
	}
	if act.BusiestHour >= 0 {
		out.BusiestHour = &model.HourCount{Hour: act.BusiestHour, Count: act.BusiestHourScans}
	}
	return out, nil
}

// activityWindows are the spans of userActivity at now: the range asked (SummaryWindow's
// defaults and limits), and the business day and week of now.
func (r *Resolver) activityWindows(from, to *time.Time) (db.ActivityWindows, error) {
	now, zone := r.now(), r.Config.BusinessTimeZone
	start, end, err := db.SummaryWindow(from, to, now)
	if err != nil {
		return db.ActivityWindows{}, err
	}
	w := db.ActivityWindows{From: start, To: end, Zone: zone.String()}
	w.TodayFrom, w.TodayTo = db.BusinessDay(now, zone)
	w.WeekFrom, w.WeekTo = db.BusinessWeek(now, zone)
	return w, nil
}

// auditFilter turns the GraphQL filter into the store's; targetId is a User's, a Bill's or a
// ReturnTicket's id.
func auditFilter(f *model.AuditFilter) (db.AuditFilter, error) {
	if f == nil {
		return db.AuditFilter{}, nil
	}
	out := db.AuditFilter{Actions: f.Actions, After: f.After, Before: f.Before}
	if f.ActorID != nil {
		id, err := gid.Decode(gid.User, *f.ActorID)
		if err != nil {
			return db.AuditFilter{}, err
		}
		out.ActorID = &id
	}
	if f.TargetID != nil {
		kind, id, err := gid.DecodeAny(*f.TargetID)
		if err != nil {
			return db.AuditFilter{}, err
		}
		target, ok := auditTargets[kind]
		if !ok {
			return db.AuditFilter{}, apperr.New(apperr.BadUserInput, "targetId must be the id of a User, a Bill or a ReturnTicket, not of %s", scalar.A(kind))
		}
		out.TargetType, out.TargetID = &target, &id
	}
	return out, nil
}

// auditTargets are the kinds of global id an audit entry may be about.
var auditTargets = map[string]db.AuditTarget{gid.User: db.AuditTargetUser, gid.Bill: db.AuditTargetBill,
	gid.ReturnTicket: db.AuditTargetReturnTicket}

// auditTarget is the user, bill or return ticket an entry is about, while it exists.
func (r *Resolver) auditTarget(ctx context.Context, e *db.AuditEntry) (db.Node, error) {
	if e.TargetType == nil || e.TargetID == nil {
		return nil, nil
	}
	switch *e.TargetType {
	case db.AuditTargetUser:
		return nodeOrNil(r.userOf(ctx, e.TargetID))
	case db.AuditTargetBill:
		return nodeOrNil(loaders.For(ctx).BillByID().Load(ctx, *e.TargetID)())
	case db.AuditTargetReturnTicket:
		return nodeOrNil(loaders.For(ctx).ReturnTicketByID().Load(ctx, *e.TargetID)())
	}
	return nil, nil
}

func auditConnection(entries []*db.AuditEntry, hasNext bool) *model.AuditEntryConnection {
	conn := &model.AuditEntryConnection{Edges: make([]*model.AuditEntryEdge, len(entries)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, e := range entries {
		conn.Edges[i] = &model.AuditEntryEdge{Cursor: model.EncodeCursor(e.ID), Node: e}
	}
	if n := len(entries); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}
