package export

import (
	"net/http"
	"strconv"

	"tracetrack/db"
	"tracetrack/internal/gid"
)

var billHeader = []string{"bill_number", "status", "capacity", "parent_bags", "child_bags",
	"total_weight_kg", "expected_weight_kg", "destination", "vehicle_number", "description",
	"created_at", "completed_at"}

// Bills serves GET /export/bills.csv (and .xlsx)?status=&search=&createdById=&createdAfter=&createdBefore=
// to any signed-in user (bills belong to no area), newest first.
func (h *Handler) Bills(format Format) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := caller(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		filter, err := billFilter(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		h.stream(w, r, user, format, "bills", billHeader, func(out rowWriter) error {
			return h.Store.ExportBills(r.Context(), filter, func(b *db.Bill) error {
				return out.row(h.billRecord(b))
			})
		})
	}
}

func billFilter(r *http.Request) (db.BillListFilter, error) {
	p := &params{q: r.URL.Query()}
	f := db.BillListFilter{Search: p.str("search"), CreatedAfter: p.time("createdAfter"), CreatedBefore: p.time("createdBefore")}
	if s := p.oneOf("status", string(db.BillStatusOpen), string(db.BillStatusInProgress), string(db.BillStatusCompleted)); s != nil {
		status := db.BillStatus(*s)
		f.Status = &status
	}
	if g := p.str("createdById"); g != nil {
		id, err := gid.Decode(gid.User, *g)
		if err != nil {
			return f, err
		}
		f.CreatedByID = &id
	}
	return f, p.done()
}

func (h *Handler) billRecord(b *db.Bill) []string {
	return []string{b.BillNumber, string(b.Status), strconv.Itoa(b.Capacity), strconv.Itoa(b.ParentBagCount),
		strconv.Itoa(b.ChildBagCount), formatKg(h.Weights.BillTotal(b.ChildBagCount)),
		formatKg(h.Weights.BillExpected(b.Capacity)),
		deref(b.Destination), deref(b.VehicleNumber), deref(b.Description),
		formatTime(&b.CreatedAt), formatTime(b.CompletedAt)}
}
