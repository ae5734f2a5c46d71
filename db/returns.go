package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tracetrack/apperr"
	"tracetrack/qr"
)

// IPT return tickets: parent bags that come back from a C&F location are scanned into an OPEN
// ticket. Each leaves its bill in the same transaction (the bill's counters drop, also on a
// COMPLETED bill: the one sanctioned exception to the freeze, see returnTicketSetting) and
// logs a RETURNED scan. A completed bill whose last parent is returned holds nothing, and a
// completed bill is never empty (SPEC: COMPLETED needs a parent; OPEN is nothing linked): its
// completion ends in that transaction and it is OPEN, which the audit log records as a
// BILL_REOPENED by the returner, naming the ticket. A ticket is then COMMITTED (finalize,
// with at least one bag) or CANCELLED; either way its bags stay off their bills. Creating,
// closing and each scanReturn call that returned bags write an audit entry. Tickets are for admins and billers,
// who see every area, so no bag on a ticket is out of the actor's scope.

// Limits of a ticket's text (the return_tickets checks say the same).
const (
	MaxCFLocationLength   = 200
	MaxReturnNotesLength  = 500
	returnTicketSetting   = "tracetrack.return_ticket"
	errReturnsNotYourRole = "return tickets are for admins and billers"
)

// NewReturnTicket is what createReturnTicket stores.
type NewReturnTicket struct {
	CFLocation string
	Notes      *string
}

// Normalized trims the location and the notes (blank notes: none) and checks their lengths.
func (n NewReturnTicket) Normalized() (NewReturnTicket, error) {
	out := NewReturnTicket{CFLocation: strings.TrimSpace(n.CFLocation)}
	if l := utf8.RuneCountInString(out.CFLocation); l == 0 || l > MaxCFLocationLength {
		return out, apperr.New(apperr.BadUserInput, "cfLocation must be 1-%d characters (the C&F location the bags came back from), got %d", MaxCFLocationLength, l)
	}
	if n.Notes != nil {
		if notes := strings.TrimSpace(*n.Notes); notes != "" {
			out.Notes = &notes
		}
	}
	if out.Notes != nil && utf8.RuneCountInString(*out.Notes) > MaxReturnNotesLength {
		return out, apperr.New(apperr.BadUserInput, "notes may be at most %d characters, got %d; shorten them", MaxReturnNotesLength, utf8.RuneCountInString(*out.Notes))
	}
	return out, nil
}

// mayHandleReturns: admins and billers create, scan, close and read return tickets.
func (a Actor) mayHandleReturns() error {
	if a.Role == RoleAdmin || a.Role == RoleBiller {
		return nil
	}
	return apperr.New(apperr.Forbidden, "%s", errReturnsNotYourRole)
}

// CreateReturnTicket opens a ticket for the actor; the database gives it its RTN- code.
func (s *Store) CreateReturnTicket(ctx context.Context, a Actor, n NewReturnTicket) (*ReturnTicket, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	n, err := n.Normalized()
	if err != nil {
		return nil, err
	}
	var t ReturnTicket
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t, `
			INSERT INTO return_tickets (cf_location, notes, created_by)
			VALUES ($1, $2, $3)
			RETURNING `+returnTicketColumns, n.CFLocation, n.Notes, a.UserID)
		if err != nil {
			return wrap(err, "create return ticket")
		}
		return auditTicket(ctx, tx, a, AuditReturnTicketCreated, t.ID, nil, auditOfTicket(&t))
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// auditTicket writes an audit entry about the ticket (before: nil when it is new).
func auditTicket(ctx context.Context, tx *sqlx.Tx, a Actor, action AuditAction, id int64, before, after *ticketAudit) error {
	return audit(ctx, tx, auditEntry{Actor: a, Action: action, TargetType: AuditTargetReturnTicket, TargetID: &id,
		Before: before, After: after})
}

// ReturnTicketByID returns the ticket with the id, or nil.
func (s *Store) ReturnTicketByID(ctx context.Context, a Actor, id int64) (*ReturnTicket, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	var t ReturnTicket
	err := s.db.GetContext(ctx, &t, `SELECT `+returnTicketColumns+` FROM return_tickets WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &t, wrap(err, "fetch return ticket")
}

// ReturnTicketsByIDs returns the tickets with the ids (missing ones are absent), for the
// loaders (the audit log's targets).
func (s *Store) ReturnTicketsByIDs(ctx context.Context, a Actor, ids []int64) ([]*ReturnTicket, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	var tickets []*ReturnTicket
	err := s.db.SelectContext(ctx, &tickets, `SELECT `+returnTicketColumns+` FROM return_tickets WHERE id = ANY($1)`, pq.Array(ids))
	return tickets, wrap(err, "fetch return tickets by id")
}

// ReturnTicketPage is one keyset page of tickets, newest first, with the count of every match.
type ReturnTicketPage struct {
	Tickets    []*ReturnTicket
	HasNext    bool
	TotalCount int
}

// ReturnTickets lists the tickets (of the status, nil: all), newest first, a page at a time.
func (s *Store) ReturnTickets(ctx context.Context, a Actor, status *ReturnTicketStatus, page Page) (*ReturnTicketPage, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	before := page.AfterID
	if before == 0 {
		before = maxID
	}
	out := &ReturnTicketPage{}
	err := s.reader().SelectContext(ctx, &out.Tickets, `
		SELECT `+returnTicketColumns+`
		FROM return_tickets
		WHERE ($1::text IS NULL OR status = $1) AND id < $2
		ORDER BY id DESC
		LIMIT $3`, status, before, page.Limit+1)
	if err != nil {
		return nil, wrap(err, "list return tickets")
	}
	out.Tickets, out.HasNext = trim(out.Tickets, page)
	err = s.reader().GetContext(ctx, &out.TotalCount, `
		SELECT count(*) FROM return_tickets WHERE ($1::text IS NULL OR status = $1)`, status)
	return out, wrap(err, "count return tickets")
}

// OwnedReturnedBag is a returned bag with its ticket (the owner) and its keyset position.
type OwnedReturnedBag struct {
	OwnerID int64 `db:"owner_id"`
	Pos     int64 `db:"pos"`
	ReturnedBag
}

// ReturnedBagsOfTickets returns a page of each ticket's bags in the order they were returned:
// up to page.Limit+1 per ticket. Pos is the returned bag's id.
func (s *Store) ReturnedBagsOfTickets(ctx context.Context, a Actor, ticketIDs []int64, page Page) ([]*OwnedReturnedBag, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	var rows []*OwnedReturnedBag
	err := s.db.SelectContext(ctx, &rows, `
		SELECT t.id AS owner_id, r.id AS pos, `+qualified("r", returnedBagColumns)+`
		FROM unnest($1::bigint[]) AS t(id)
		CROSS JOIN LATERAL (
			SELECT `+returnedBagColumns+`
			FROM returned_bags
			WHERE ticket_id = t.id AND id > $2
			ORDER BY id
			LIMIT $3
		) r`, pq.Array(ticketIDs), page.AfterID, page.Limit+1)
	return rows, wrap(err, "fetch returned bags of tickets")
}

// FinalizeReturnTicket commits an OPEN ticket that holds at least one bag.
func (s *Store) FinalizeReturnTicket(ctx context.Context, a Actor, id int64) (*ReturnTicket, error) {
	return s.closeReturnTicket(ctx, a, id, ReturnTicketCommitted, AuditReturnTicketFinalized)
}

// CancelReturnTicket cancels an OPEN ticket; its bags stay off their bills.
func (s *Store) CancelReturnTicket(ctx context.Context, a Actor, id int64) (*ReturnTicket, error) {
	return s.closeReturnTicket(ctx, a, id, ReturnTicketCancelled, AuditReturnTicketCancelled)
}

// closeReturnTicket moves an OPEN ticket to its final status and audits it. An empty ticket
// cannot be committed (return_tickets_committed_not_empty decides, under the row lock).
func (s *Store) closeReturnTicket(ctx context.Context, a Actor, id int64, status ReturnTicketStatus, action AuditAction) (*ReturnTicket, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	var t ReturnTicket
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t, `
			UPDATE return_tickets SET status = $2, closed_by = $3, closed_at = now(), updated_at = now()
			WHERE id = $1 AND status = 'OPEN'
			RETURNING `+returnTicketColumns, id, status, a.UserID)
		if err != nil {
			return err
		}
		// the update changes the status only: before it the ticket was OPEN with the same bags
		before := auditOfTicket(&t)
		before.Status = ReturnTicketOpen
		return auditTicket(ctx, tx, a, action, t.ID, before, auditOfTicket(&t))
	})
	if code, constraint := constraintName(err); code == pqCheckViolation && constraint == "return_tickets_committed_not_empty" {
		return nil, apperr.New(apperr.Conflict, "the ticket has no bags; scan at least one parent bag into it before finalizing, or cancel it")
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.ticketNotOpen(ctx, id)
	}
	if err != nil {
		return nil, wrap(err, "close return ticket")
	}
	return &t, nil
}

// ticketNotOpen explains why a ticket change matched no OPEN ticket: NOT_FOUND or CONFLICT.
func (s *Store) ticketNotOpen(ctx context.Context, id int64) error {
	var t ReturnTicket
	err := s.db.GetContext(ctx, &t, `SELECT `+returnTicketColumns+` FROM return_tickets WHERE id = $1`, id)
	if err != nil {
		return wrap(notFoundIfNoRows(err, "no return ticket with this id"), "fetch return ticket")
	}
	return t.refuseUnlessOpen()
}

// refuseUnlessOpen is the CONFLICT of a change to a closed ticket.
func (t *ReturnTicket) refuseUnlessOpen() error {
	if t.Status == ReturnTicketOpen {
		return nil
	}
	return apperr.New(apperr.Conflict, "return ticket %s is %s: only OPEN tickets take scans or close; create a new ticket", t.Code, t.Status)
}

// ReturnScanResult is what one scanReturn call did, QR by QR.
type ReturnScanResult struct {
	Ticket *ReturnTicket
	// Returned are the bags this call returned; AlreadyReturned were on this ticket before
	// (a retried call changes nothing and logs nothing twice).
	Returned        []*ReturnedBag
	AlreadyReturned []*ReturnedBag
	Rejected        []Rejection
}

// ScanReturn returns parent bags on an OPEN ticket, each QR on its own: returned, already on
// this ticket, or rejected (INVALID_QR, DUPLICATE_IN_BATCH, IS_CHILD, NOT_FOUND, NOT_ON_BILL,
// ALREADY_RETURNED). Each returned bag records its bill and children, leaves the bill and
// logs RETURNED, all in one transaction with the call's audit entry; a completed bill that
// loses its last parent ends OPEN. Locks: the ticket, then the parents (by id), then their
// bills (by id).
func (s *Store) ScanReturn(ctx context.Context, a Actor, ticketID int64, qrs []string) (*ReturnScanResult, error) {
	if err := a.mayHandleReturns(); err != nil {
		return nil, err
	}
	if err := checkBatchSize(len(qrs), MaxReturnBatch, "parent QRs"); err != nil {
		return nil, err
	}
	lookup, rejected := triageBatch(qrs, qr.Parent)
	res := &ReturnScanResult{Rejected: rejected}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		ticket, err := lockReturnTicket(ctx, tx, ticketID)
		if err != nil {
			return err
		}
		parents, err := lockParentsByQR(ctx, tx, lookup)
		if err != nil {
			return err
		}
		missing, err := rejectMissingParents(ctx, tx, lookup, parents)
		if err != nil {
			return err
		}
		res.Rejected = append(res.Rejected, missing...)
		candidates, emptied, err := res.sortOutReturnable(ctx, tx, ticket, lookup, parents)
		if err != nil {
			return err
		}
		if err := res.returnBags(ctx, tx, a, ticket, candidates, emptied); err != nil {
			return err
		}
		if res.Ticket, err = returnTicketInTx(ctx, tx, ticketID); err != nil {
			return err
		}
		return res.audit(ctx, tx, a, ticket)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// lockReturnTicket locks the ticket FOR UPDATE; a missing ticket is NOT_FOUND, a closed one
// CONFLICT.
func lockReturnTicket(ctx context.Context, tx *sqlx.Tx, id int64) (*ReturnTicket, error) {
	var t ReturnTicket
	err := tx.GetContext(ctx, &t, `SELECT `+returnTicketColumns+` FROM return_tickets WHERE id = $1 FOR UPDATE`, id)
	if err != nil {
		return nil, wrap(notFoundIfNoRows(err, "no return ticket with this id"), "lock return ticket")
	}
	return &t, t.refuseUnlessOpen()
}

func returnTicketInTx(ctx context.Context, tx *sqlx.Tx, id int64) (*ReturnTicket, error) {
	var t ReturnTicket
	err := tx.GetContext(ctx, &t, `SELECT `+returnTicketColumns+` FROM return_tickets WHERE id = $1`, id)
	return &t, wrap(err, "fetch return ticket")
}

// billOfReturn is a locked parent's bill, as the return needs it.
type billOfReturn struct {
	BagID          int64  `db:"bag_id"`
	BillID         int64  `db:"bill_id"`
	BillNumber     string `db:"bill_number"`
	ParentBagCount int    `db:"parent_bag_count"`
	Completed      bool   `db:"completed"`
}

// lastReturn is the return of a bag that decides a new one: on this ticket if there is one,
// else the latest.
type lastReturn struct {
	ReturnedBag
	TicketCode string `db:"ticket_code"`
}

// sortOutReturnable files the locked parents: on this ticket already, returned before, or on
// no bill; it returns the rest in call order, with their bills (locked here, after the
// parents), and the completed bills the batch leaves empty.
func (r *ReturnScanResult) sortOutReturnable(ctx context.Context, tx *sqlx.Tx, ticket *ReturnTicket, qrs []string, parents map[string]*Bag) ([]returnCandidate, []*billOfReturn, error) {
	ids := make([]int64, 0, len(parents))
	for _, p := range parents {
		ids = append(ids, p.ID)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	bills, err := lockBillsOfParents(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	returns, err := lastReturns(ctx, tx, ticket.ID, ids)
	if err != nil {
		return nil, nil, err
	}
	left := map[int64]int{} // parents left on each bill as the batch goes
	for _, b := range bills {
		left[b.BillID] = b.ParentBagCount
	}
	var candidates []returnCandidate
	var emptied []*billOfReturn
	for _, code := range qrs {
		p := parents[code]
		if p == nil {
			continue
		}
		bill, prev := bills[p.ID], returns[p.ID]
		switch {
		case prev != nil && prev.TicketID == ticket.ID && bill == nil:
			r.AlreadyReturned = append(r.AlreadyReturned, &prev.ReturnedBag)
		case prev != nil && prev.TicketID == ticket.ID:
			r.Rejected = append(r.Rejected, rejectReturnedBefore(code, ticket.Code, bill.BillNumber))
		case bill == nil && prev != nil:
			r.Rejected = append(r.Rejected, rejectAlreadyReturned(code, prev.TicketCode))
		case bill == nil:
			r.Rejected = append(r.Rejected, rejectNotOnBill(code))
		default:
			if left[bill.BillID]--; left[bill.BillID] == 0 && bill.Completed {
				emptied = append(emptied, bill)
			}
			candidates = append(candidates, returnCandidate{p, bill})
		}
	}
	return candidates, emptied, nil
}

// returnCandidate is a parent that will be returned, with the bill it leaves.
type returnCandidate struct {
	bag  *Bag
	bill *billOfReturn
}

// lockBillsOfParents locks the bills of the (locked) parents in bill id order and returns
// them by parent id; parents on no bill are absent.
func lockBillsOfParents(ctx context.Context, tx *sqlx.Tx, parentIDs []int64) (map[int64]*billOfReturn, error) {
	var rows []*billOfReturn
	err := tx.SelectContext(ctx, &rows, `
		SELECT bb.bag_id, b.id AS bill_id, b.bill_number, b.parent_bag_count, b.completed_at IS NOT NULL AS completed
		FROM bill_bags bb JOIN bills b ON b.id = bb.bill_id
		WHERE bb.bag_id = ANY($1)
		ORDER BY b.id
		FOR NO KEY UPDATE OF b`, pq.Array(parentIDs))
	if err != nil {
		return nil, wrap(err, "lock the bills of the returned parents")
	}
	byBag := make(map[int64]*billOfReturn, len(rows))
	for _, b := range rows {
		byBag[b.BagID] = b
	}
	return byBag, nil
}

// lastReturns returns, per parent id, its return on the ticket or else its latest return.
func lastReturns(ctx context.Context, tx *sqlx.Tx, ticketID int64, parentIDs []int64) (map[int64]*lastReturn, error) {
	var rows []*lastReturn
	err := tx.SelectContext(ctx, &rows, `
		SELECT DISTINCT ON (r.bag_id) `+qualified("r", returnedBagColumns)+`, t.code AS ticket_code
		FROM returned_bags r JOIN return_tickets t ON t.id = r.ticket_id
		WHERE r.bag_id = ANY($1)
		ORDER BY r.bag_id, r.ticket_id = $2 DESC, r.id DESC`, pq.Array(parentIDs), ticketID)
	if err != nil {
		return nil, wrap(err, "fetch earlier returns of the parents")
	}
	byBag := make(map[int64]*lastReturn, len(rows))
	for _, r := range rows {
		byBag[r.BagID] = r
	}
	return byBag, nil
}

// returnBags records the candidates on the ticket, takes them off their bills (ending the
// completion of the completed bills they empty) and logs a RETURNED scan for each, in call
// order.
func (r *ReturnScanResult) returnBags(ctx context.Context, tx *sqlx.Tx, a Actor, ticket *ReturnTicket, candidates []returnCandidate, emptied []*billOfReturn) error {
	if len(candidates) == 0 {
		return nil
	}
	bagIDs := make([]int64, len(candidates))
	billIDs := make([]int64, len(candidates))
	entries := make([]scanEntry, len(candidates))
	for i, c := range candidates {
		bagIDs[i], billIDs[i] = c.bag.ID, c.bill.BillID
		entries[i] = scanEntry{Kind: ScanReturned, Bag: c.bag, BillID: &c.bill.BillID, UserID: a.UserID}
	}
	// the return is recorded first: the freeze's exception looks for it (see the migration)
	err := tx.SelectContext(ctx, &r.Returned, `
		INSERT INTO returned_bags (ticket_id, bag_id, bag_qr, bill_id, bill_number, child_count, area_id, returned_by)
		SELECT $1, g.id, g.qr, u.bill_id, b.bill_number, g.child_count, g.area_id, $4
		FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(bag_id, bill_id, ord)
		JOIN bags g ON g.id = u.bag_id
		JOIN bills b ON b.id = u.bill_id
		ORDER BY u.ord
		RETURNING `+returnedBagColumns, ticket.ID, pq.Array(bagIDs), pq.Array(billIDs), a.UserID)
	if err != nil {
		return wrap(err, "record returned bags")
	}
	completed, err := endCompletions(ctx, tx, emptied)
	if err != nil {
		return err
	}
	if err := unlinkReturned(ctx, tx, ticket.ID, bagIDs); err != nil {
		return err
	}
	if err := auditEndedCompletions(ctx, tx, a, ticket, completed); err != nil {
		return err
	}
	return logScans(ctx, tx, entries)
}

// endCompletions clears the completion of the (locked) completed bills the return empties,
// before their links go: a completed bill is never empty (bills_completed_not_empty), and
// without its completion the freeze no longer holds it. It returns the bills as they were.
func endCompletions(ctx context.Context, tx *sqlx.Tx, emptied []*billOfReturn) ([]*Bill, error) {
	if len(emptied) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(emptied))
	for i, b := range emptied {
		ids[i] = b.BillID
	}
	var before []*Bill
	if err := tx.SelectContext(ctx, &before, `SELECT `+billColumns+` FROM bills WHERE id = ANY($1) ORDER BY id`, pq.Array(ids)); err != nil {
		return nil, wrap(err, "read the bills the return empties")
	}
	_, err := tx.ExecContext(ctx, `UPDATE bills SET completed_at = NULL, completed_by = NULL, updated_at = now() WHERE id = ANY($1)`, pq.Array(ids))
	return before, wrap(err, "end the completion of the bills the return empties")
}

// auditEndedCompletions records each bill whose completion the return ended as BILL_REOPENED
// by the returner, its after state (OPEN, empty) naming the ticket.
func auditEndedCompletions(ctx context.Context, tx *sqlx.Tx, a Actor, ticket *ReturnTicket, before []*Bill) error {
	for _, b := range before {
		var after Bill
		if err := tx.GetContext(ctx, &after, `SELECT `+billColumns+` FROM bills WHERE id = $1`, b.ID); err != nil {
			return wrap(err, "read a bill the return emptied")
		}
		state := auditOfBill(&after)
		state.ReturnTicket = ticket.Code
		err := audit(ctx, tx, auditEntry{Actor: a, Action: AuditBillReopened, TargetType: AuditTargetBill, TargetID: &b.ID,
			Before: auditOfBill(b), After: state})
		if err != nil {
			return err
		}
	}
	return nil
}

// audit records the call in the audit log when it returned bags (BAGS_RETURNED, one entry
// per call): the ticket before, and after with the bags and the bills they left.
func (r *ReturnScanResult) audit(ctx context.Context, tx *sqlx.Tx, a Actor, before *ReturnTicket) error {
	if len(r.Returned) == 0 {
		return nil
	}
	after := auditOfTicket(r.Ticket)
	for _, b := range r.Returned {
		after.Bags = append(after.Bags, returnedAudit{QR: b.BagQR, BillNumber: b.BillNumber, ChildCount: b.ChildCount})
	}
	return auditTicket(ctx, tx, a, AuditBagsReturned, before.ID, auditOfTicket(before), after)
}

// unlinkReturned takes the returned parents off their bills. It is the only place that sets
// returnTicketSetting, which lets a completed bill's counters drop (the freeze's exception,
// migration 00012): set_config(..., true) is transaction-local, and it is cleared again as
// soon as the links are gone, so nothing else in this transaction or on this connection
// passes the freeze.
func unlinkReturned(ctx context.Context, tx *sqlx.Tx, ticketID int64, bagIDs []int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT set_config($1, $2, true)`, returnTicketSetting, strconv.FormatInt(ticketID, 10)); err != nil {
		return wrap(err, "mark the transaction as a return")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM bill_bags WHERE bag_id = ANY($1)`, pq.Array(bagIDs)); err != nil {
		return wrap(err, "take returned parents off their bills")
	}
	_, err := tx.ExecContext(ctx, `SELECT set_config($1, '', true)`, returnTicketSetting)
	return wrap(err, "end the return's exception")
}
