package export

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tracetrack/auth"
	"tracetrack/db"
)

// EPCIS configures the EPCIS 2.0 export: the URI base every identifier of the document is
// built under, and the zone whose offset the events carry (the business's).
type EPCIS struct {
	URIBase string
	Zone    *time.Location
}

// DefaultEPCISURIBase is under example. (reserved, RFC 2606): identifiers that leave the
// business should live under a domain it holds (EPCIS_URI_BASE).
const DefaultEPCISURIBase = "https://tracetrack.example/epcis"

// epcisContext is the JSON-LD context of GS1 EPCIS 2.0.
const epcisContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// ParseURIBase checks an EPCIS URI base: an absolute http or https URL, written as a URI,
// without user information, query or fragment (identifiers are the base, a kind and a value joined by slashes). It returns the
// base without trailing slashes.
func ParseURIBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("is not an http or https URL")
	case u.Host == "":
		return "", errors.New("has no host")
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
		return "", errors.New("has a query or fragment")
	case u.User != nil:
		return "", errors.New("has user information")
	case u.String() != raw:
		// a space or another character that a URI must escape: the identifiers would not be URIs
		return "", errors.New("is not written as a URI (escape its characters)")
	}
	return strings.TrimRight(raw, "/"), nil
}

// EPCISDocument serves GET /export/epcis.jsonld?from=&to=: the scan log the caller may see
// (a dispatcher: their area's), oldest first, as a GS1 EPCIS 2.0 EPCISDocument in JSON-LD.
// from and to are optional times (from <= eventTime < to).
func (h *Handler) EPCISDocument(w http.ResponseWriter, r *http.Request) {
	user, err := caller(r)
	if err != nil {
		refuse(w, r, err)
		return
	}
	p := &params{q: r.URL.Query()}
	window := db.EPCISWindow{From: p.time("from"), To: p.time("to")}
	if err := p.done(); err != nil {
		refuse(w, r, err)
		return
	}
	done, err := h.limits.begin(user.ID)
	if err != nil {
		refuse(w, r, err)
		return
	}
	defer done()
	out := h.startEPCIS(w, time.Now())
	err = h.Store.ExportEPCISScans(r.Context(), auth.ActorFrom(r.Context()), window, func(s *db.EPCISScan) error {
		return out.event(h.epcisEvent(s))
	})
	out.finish(r, err)
}

// epcisEvent is an ObjectEvent or AggregationEvent of EPCIS 2.0 (JSON binding); the fields
// left empty are those the event type does not have.
type epcisEvent struct {
	Type                string           `json:"type"`
	EventID             string           `json:"eventID"`
	EventTime           string           `json:"eventTime"`
	EventTimeZoneOffset string           `json:"eventTimeZoneOffset"`
	EPCList             []string         `json:"epcList,omitempty"`
	ParentID            string           `json:"parentID,omitempty"`
	ChildEPCs           []string         `json:"childEPCs,omitempty"`
	Action              string           `json:"action"`
	BizStep             string           `json:"bizStep,omitempty"`
	Disposition         string           `json:"disposition,omitempty"`
	ReadPoint           *epcisPlace      `json:"readPoint,omitempty"`
	BizLocation         *epcisPlace      `json:"bizLocation,omitempty"`
	BizTransactionList  []bizTransaction `json:"bizTransactionList,omitempty"`
}

type epcisPlace struct {
	ID string `json:"id"`
}

type bizTransaction struct {
	Type           string `json:"type"`
	BizTransaction string `json:"bizTransaction"`
}

// CBV 2.0 business transaction types: a bill is the dispatch's invoice; a return ticket
// authorises the return of what it holds.
const (
	bizTransactionInvoice = "inv"
	bizTransactionReturn  = "rma"
)

// epcisEvent maps one scan to its event (CBV 2.0 bizStep and disposition):
//   - PARENT_SCANNED: ObjectEvent; the parent's first scan registers it (ADD, commissioning),
//     later scans observe it (OBSERVE, inspecting);
//   - BAG_DELETED: ObjectEvent DELETE, decommissioning;
//   - CHILD_LINKED / CHILD_UNLINKED: AggregationEvent ADD (packing) / DELETE (unpacking), the
//     parent as parentID, the child in childEPCs;
//   - BILL_LINKED / BILL_UNLINKED: AggregationEvent ADD (loading) / DELETE (unloading) of the
//     parent onto the bill's dispatch, the bill as parentID and as business transaction;
//   - RETURNED: AggregationEvent DELETE (receiving, returned) of the parent off its bill, with
//     the ticket as a second business transaction and the C&F location as where the bag is.
//
// readPoint and bizLocation are the bag's dispatch area, when it has one.
func (h *Handler) epcisEvent(s *db.EPCISScan) *epcisEvent {
	at := s.At.In(h.EPCIS.Zone)
	e := &epcisEvent{EventID: h.uri("event", strconv.FormatInt(s.ID, 10)),
		EventTime: at.Format("2006-01-02T15:04:05.000Z07:00"), EventTimeZoneOffset: at.Format("-07:00")}
	if s.AreaCode != nil {
		e.ReadPoint = &epcisPlace{h.uri("area", *s.AreaCode)}
		e.BizLocation = e.ReadPoint
	}
	bag := h.uri("bag", s.BagQR)
	switch s.Kind {
	case db.ScanParentScanned, db.ScanBagDeleted:
		e.Type, e.EPCList = "ObjectEvent", []string{bag}
		switch {
		case s.Kind == db.ScanBagDeleted:
			e.Action, e.BizStep, e.Disposition = "DELETE", "decommissioning", "inactive"
		case s.Registration:
			e.Action, e.BizStep, e.Disposition = "ADD", "commissioning", "active"
		default:
			e.Action, e.BizStep, e.Disposition = "OBSERVE", "inspecting", "active"
		}
	case db.ScanChildLinked, db.ScanChildUnlinked:
		e.Type, e.ChildEPCs = "AggregationEvent", []string{bag}
		if s.ParentQR != nil {
			e.ParentID = h.uri("bag", *s.ParentQR)
		}
		if s.Kind == db.ScanChildLinked {
			e.Action, e.BizStep, e.Disposition = "ADD", "packing", "in_progress"
		} else {
			e.Action, e.BizStep = "DELETE", "unpacking"
		}
	default: // BILL_LINKED, BILL_UNLINKED, RETURNED: the parent and its bill
		e.Type, e.ChildEPCs = "AggregationEvent", []string{bag}
		if s.BillID != nil {
			e.ParentID = h.uri("bill", strconv.FormatInt(*s.BillID, 10))
			e.BizTransactionList = []bizTransaction{{bizTransactionInvoice, e.ParentID}}
		}
		h.billEvent(e, s)
	}
	return e
}

// billEvent fills in the action, bizStep and disposition of a bill link, unlink or return.
func (h *Handler) billEvent(e *epcisEvent, s *db.EPCISScan) {
	switch s.Kind {
	case db.ScanBillLinked:
		e.Action, e.BizStep, e.Disposition = "ADD", "loading", "in_progress"
	case db.ScanBillUnlinked:
		e.Action, e.BizStep, e.Disposition = "DELETE", "unloading", "in_progress"
	default:
		e.Action, e.BizStep, e.Disposition = "DELETE", "receiving", "returned"
		if s.TicketCode != nil {
			e.BizTransactionList = append(e.BizTransactionList, bizTransaction{bizTransactionReturn, h.uri("return", *s.TicketCode)})
		}
		if s.CFLocation != nil {
			e.BizLocation = &epcisPlace{h.uri("cf-location", *s.CFLocation)}
		}
	}
}

// uri is an identifier of the document: base/kind/value, the value escaped as a path segment.
func (h *Handler) uri(kind, value string) string {
	return h.EPCIS.URIBase + "/" + kind + "/" + url.PathEscape(value)
}
