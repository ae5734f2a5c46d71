package db

import (
	"context"
	"time"

	"tracetrack/apperr"
)

// EPCISScan is a scan of the log with what an EPCIS event of it names besides the scan: the
// area's code, the parent's QR (child links and unlinks), whether a PARENT_SCANNED row is the
// parent's registration (its first scan), and for a return its ticket and C&F location.
type EPCISScan struct {
	Scan
	AreaCode     *string `db:"area_code"`
	ParentQR     *string `db:"parent_qr"`
	Registration bool    `db:"registration"`
	TicketCode   *string `db:"ticket_code"`
	CFLocation   *string `db:"cf_location"`
}

// EPCISWindow is the part of the scan log an EPCIS export covers: From <= at < To, either
// bound optional.
type EPCISWindow struct {
	From *time.Time
	To   *time.Time
}

func (w EPCISWindow) check() error {
	if w.From != nil && w.To != nil && !w.From.Before(*w.To) {
		return apperr.New(apperr.BadUserInput, "from must be before to (the window is from <= time < to), got from %s and to %s",
			w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano))
	}
	return nil
}

// ExportEPCISScans calls each for every scan the actor may see in the window, oldest first
// (an EPCIS document reads as a history), in the exports' keyset batches. Return tickets are
// for admins and billers: for anyone else a return's ticket and C&F location stay empty.
func (s *Store) ExportEPCISScans(ctx context.Context, a Actor, w EPCISWindow, each func(*EPCISScan) error) error {
	if err := w.check(); err != nil {
		return err
	}
	area, err := a.ReadScope(nil)
	if err != nil {
		return err
	}
	showTickets := a.mayHandleReturns() == nil
	return inBatches(ctx, s.exportQueries, func(page Page) ([]*EPCISScan, bool, error) {
		return s.epcisScans(ctx, area, w, showTickets, page)
	}, func(scan *EPCISScan) int64 { return scan.ID }, each)
}

// epcisScans reads one batch in id order. The parent's QR comes from the bag, or, once the
// parent is gone, from its first scan (the log keeps QRs); a return's ticket is the latest
// return of the bag recorded by the time of the scan (the same transaction writes both).
func (s *Store) epcisScans(ctx context.Context, area *int64, w EPCISWindow, showTickets bool, page Page) ([]*EPCISScan, bool, error) {
	c := &conditions{}
	if area != nil {
		c.add("area_id = ?", *area)
	}
	c.window("at", w.From, w.To)
	c.add("id > ?", page.AfterID)
	var scans []*EPCISScan
	err := s.reader().SelectContext(ctx, &scans, `
		SELECT `+qualified("s", scanColumns)+`, ar.code AS area_code,
		       CASE WHEN s.parent_id IS NOT NULL THEN coalesce(
		           (SELECT p.qr FROM bags p WHERE p.id = s.parent_id),
		           (SELECT ps.bag_qr FROM scans ps WHERE ps.bag_id = s.parent_id ORDER BY ps.id LIMIT 1)) END AS parent_qr,
		       s.kind = 'PARENT_SCANNED' AND NOT EXISTS (
		           SELECT 1 FROM scans e WHERE e.bag_id = s.bag_id AND e.kind = 'PARENT_SCANNED' AND e.id < s.id) AS registration,
		       rt.code AS ticket_code, rt.cf_location
		FROM (SELECT `+scanColumns+` FROM scans`+c.where()+` ORDER BY id LIMIT `+c.arg(page.Limit+1)+`) s
		LEFT JOIN areas ar ON ar.id = s.area_id
		LEFT JOIN LATERAL (
			SELECT t.code, t.cf_location
			FROM returned_bags r JOIN return_tickets t ON t.id = r.ticket_id
			WHERE `+c.arg(showTickets)+` AND s.kind = 'RETURNED' AND r.bag_id = s.bag_id AND r.returned_at <= s.at
			ORDER BY r.id DESC
			LIMIT 1) rt ON true
		ORDER BY s.id`, c.args...)
	if err != nil {
		return nil, false, wrap(err, "export EPCIS events")
	}
	scans, more := trim(scans, page)
	return scans, more, nil
}
