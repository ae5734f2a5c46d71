package export

import (
	"net/http"
	"strconv"

	"tracetrack/auth"
	"tracetrack/db"
)

var bagHeader = []string{"qr", "type", "status", "area", "parent_qr", "child_count", "weight_kg",
	"bill_number", "created_at"}

// Bags serves GET /export/bags.csv?type=&status=&areaCode=&qrPrefix=&search=&billed=
// &createdAfter=&createdBefore=, in id order. A dispatcher gets their own area's bags only
// (another areaCode: 403), as in the GraphQL bags list.
func (h Handler) Bags(w http.ResponseWriter, r *http.Request) {
	if _, err := caller(r); err != nil {
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
	out, err := startCSV(w, "bags.csv", bagHeader)
	if err == nil {
		err = h.Store.ExportBags(r.Context(), actor, filter, func(b *db.ExportedBag) error {
			record, err := h.bagRecord(r, b)
			if err != nil {
				return err
			}
			return out.row(record)
		})
	}
	out.finish(r, err)
}

// bagFilter reads the filter; an area the actor may not read is refused here, before any
// row (403), and the store applies the actor's scope again as it reads.
func (h Handler) bagFilter(r *http.Request, actor db.Actor, p *params) (db.BagExportFilter, error) {
	f := db.BagExportFilter{QRPrefix: p.str("qrPrefix"), Search: p.str("search"), Billed: p.bool("billed"),
		CreatedAfter: p.time("createdAfter"), CreatedBefore: p.time("createdBefore")}
	if t := p.oneOf("type", string(db.BagTypeParent), string(db.BagTypeChild)); t != nil {
		bagType := db.BagType(*t)
		f.Type = &bagType
	}
	if s := p.oneOf("status", string(db.BagStatusPending), string(db.BagStatusInProgress), string(db.BagStatusCompleted)); s != nil {
		status := db.BagStatus(*s)
		f.Status = &status
	}
	if p.err != nil {
		return f, p.err
	}
	area, err := h.Store.ReadableArea(r.Context(), actor, p.str("areaCode"))
	f.AreaID = area
	return f, err
}

func (h Handler) bagRecord(r *http.Request, b *db.ExportedBag) ([]string, error) {
	var areaCode string
	if b.AreaID != nil {
		area, err := h.Store.AreaByID(r.Context(), *b.AreaID)
		if err != nil {
			return nil, err
		}
		if area != nil {
			areaCode = area.Code
		}
	}
	return []string{b.QR, string(b.Type), string(b.Status), areaCode, deref(b.ParentQR),
		strconv.Itoa(b.ChildCount), formatKg(h.Weights.Bag(&b.Bag)),
		deref(b.BillNumber), formatTime(&b.CreatedAt)}, nil
}
