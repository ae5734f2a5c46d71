package export

import (
	"net/http"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/internal/gid"
)

var scanHeader = []string{"scan_id", "kind", "at", "bag_qr", "area", "user"}

// scanKinds are the values of the kinds parameter.
var scanKinds = []string{string(db.ScanParentScanned), string(db.ScanChildLinked), string(db.ScanChildUnlinked),
	string(db.ScanBagDeleted), string(db.ScanBillLinked), string(db.ScanBillUnlinked)}

// Scans serves GET /export/scans.csv (and .xlsx)?kinds=&areaCode=&userId=&after=&before=, the
// scan log newest first. A dispatcher gets their own area's scans only (another areaCode:
// 403), as in the GraphQL scans list.
func (h *Handler) Scans(format Format) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, err := caller(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		actor := auth.ActorFrom(r.Context())
		filter, err := h.scanFilter(r, actor)
		if err != nil {
			refuse(w, r, err)
			return
		}
		users := map[int64]string{} // usernames, read once per user of the export
		h.stream(w, r, user, format, "scans", scanHeader, func(out rowWriter) error {
			return h.Store.ExportScans(r.Context(), actor, filter, func(s *db.Scan) error {
				record, err := h.scanRecord(r, s, users)
				if err != nil {
					return err
				}
				return out.row(record)
			})
		})
	}
}

// scanFilter builds the scans list's own filter from the query parameters; an area the actor
// may not read is refused here, before any row (403).
func (h *Handler) scanFilter(r *http.Request, actor db.Actor) (db.ScanFilter, error) {
	p := &params{q: r.URL.Query()}
	f := db.ScanFilter{After: p.time("after"), Before: p.time("before")}
	for _, kind := range p.listOf("kinds", scanKinds...) {
		f.Kinds = append(f.Kinds, db.ScanKind(kind))
	}
	if id := p.str("userId"); id != nil {
		userID, err := gid.Decode(gid.User, *id)
		if err != nil {
			return f, err
		}
		f.UserID = &userID
	}
	areaCode := p.str("areaCode")
	if err := p.done(); err != nil {
		return f, err
	}
	area, err := h.Store.ReadableArea(r.Context(), actor, areaCode)
	f.AreaID = area
	return f, err
}

// scanRecord is a scan's row: its area's code and its user's name (users caches the names
// read so far, so an export reads each user once).
func (h *Handler) scanRecord(r *http.Request, s *db.Scan, users map[int64]string) ([]string, error) {
	areaCode, err := h.areaCode(r, s.AreaID)
	if err != nil {
		return nil, err
	}
	var username string
	if s.UserID != nil {
		name, known := users[*s.UserID]
		if !known {
			u, err := h.Store.UserByID(r.Context(), *s.UserID)
			if err != nil && apperr.CodeOf(err) != apperr.NotFound {
				return nil, err
			}
			if u != nil {
				name = u.Username
			}
			users[*s.UserID] = name
		}
		username = name
	}
	return []string{gid.Encode(gid.Scan, s.ID), string(s.Kind), formatTime(&s.At), s.BagQR, areaCode, username}, nil
}
