package export

import (
	"net/http"
	"strconv"

	"tracetrack/auth"
	"tracetrack/db"
)

var bagHeader = []string{"qr", "type", "status", "area", "parent_qr", "child_count", "weight_kg",
	"bill_number", "created_at"}

// Bags serves GET /export/bags.csv (and .xlsx)?type=&status=&areaCode=&qrPrefix=&search=&billed=
// &createdAfter=&createdBefore=, in id order. A dispatcher gets their own area's bags only
// (another areaCode: 403), as in the GraphQL bags list.
func (h *Handler) Bags(format Format) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := caller(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		actor := auth.ActorFrom(r.Context())
		p := &params{q: r.URL.Query()}
		filter, err := h.bagFilter(r, actor, p)
		if err != nil {
			refuse(w, r, err)
			return
		}
		h.stream(w, r, user, format, "bags", bagHeader, func(out rowWriter) error {
			return h.Store.ExportBags(r.Context(), actor, filter, func(b *db.ExportedBag) error {
				record, err := h.bagRecord(r, b)
				if err != nil {
					return err
				}
				return out.row(record)
			})
		})
	}
}

// bagFilter builds the bags list's own filter (db.BagFilter, with its search rules) from the
// query parameters; an area the actor may not read is refused here, before any row (403), and
// the store applies the actor's scope again as it reads.
func (h *Handler) bagFilter(r *http.Request, actor db.Actor, p *params) (db.BagFilter, error) {
	f := db.BagFilter{Billed: p.bool("billed"), CreatedAfter: p.time("createdAfter"), CreatedBefore: p.time("createdBefore")}
	qrPrefix, search, areaCode := p.str("qrPrefix"), p.str("search"), p.str("areaCode")
	if t := p.oneOf("type", string(db.BagTypeParent), string(db.BagTypeChild)); t != nil {
		bagType := db.BagType(*t)
		f.Type = &bagType
	}
	if s := p.oneOf("status", string(db.BagStatusPending), string(db.BagStatusInProgress), string(db.BagStatusCompleted)); s != nil {
		status := db.BagStatus(*s)
		f.Status = &status
	}
	if err := p.done(); err != nil {
		return f, err
	}
	if err := f.SetSearch(qrPrefix, search); err != nil {
		return f, err
	}
	area, err := h.Store.ReadableArea(r.Context(), actor, areaCode)
	f.AreaID = area
	return f, err
}

func (h *Handler) bagRecord(r *http.Request, b *db.ExportedBag) ([]string, error) {
	areaCode, err := h.areaCode(r, b.AreaID)
	if err != nil {
		return nil, err
	}
	return []string{b.QR, string(b.Type), string(b.Status), areaCode, deref(b.ParentQR),
		strconv.Itoa(b.ChildCount), formatKg(h.Weights.Bag(&b.Bag)),
		deref(b.BillNumber), formatTime(&b.CreatedAt)}, nil
}

// areaCode is the code of the area (cached by the store), "" for none.
func (h *Handler) areaCode(r *http.Request, id *int64) (string, error) {
	if id == nil {
		return "", nil
	}
	area, err := h.Store.AreaByID(r.Context(), *id)
	if err != nil || area == nil {
		return "", err
	}
	return area.Code, nil
}
