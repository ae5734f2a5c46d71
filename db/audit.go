package db

import (
	"cmp"
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
)

// AuditAction names an entry of the audit log.
type AuditAction string

const (
	AuditLogin           AuditAction = "LOGIN"
	AuditLoginFailed     AuditAction = "LOGIN_FAILED"
	AuditLoginLocked     AuditAction = "LOGIN_LOCKED"
	AuditLogout          AuditAction = "LOGOUT"
	AuditPasswordChanged AuditAction = "PASSWORD_CHANGED"
	AuditUserCreated     AuditAction = "USER_CREATED"
	AuditUserUpdated     AuditAction = "USER_UPDATED"
	AuditUserDeleted     AuditAction = "USER_DELETED"
	AuditUserUnlocked    AuditAction = "USER_UNLOCKED"
	AuditBillCompleted   AuditAction = "BILL_COMPLETED"
	AuditBillReopened    AuditAction = "BILL_REOPENED"
	// Return tickets: created, closed either way, and each scanReturn call that returned bags
	// (one entry per call, not per bag: the scan log has a RETURNED row per bag).
	AuditReturnTicketCreated   AuditAction = "RETURN_TICKET_CREATED"
	AuditReturnTicketFinalized AuditAction = "RETURN_TICKET_FINALIZED"
	AuditReturnTicketCancelled AuditAction = "RETURN_TICKET_CANCELLED"
	AuditBagsReturned          AuditAction = "BAGS_RETURNED"
	// AuditImported: an import job finished (one entry per job, its counters in after).
	AuditImported AuditAction = "IMPORTED"
)

// AuditTarget is the kind of thing an audit entry is about.
type AuditTarget string

const (
	AuditTargetUser AuditTarget = "user"
	AuditTargetBill AuditTarget = "bill"
	// AuditTargetReturnTicket names a return ticket.
	AuditTargetReturnTicket AuditTarget = "return_ticket"
	// AuditTargetImportJob names an import job.
	AuditTargetImportJob AuditTarget = "import_job"
)

// auditEntry is one row of audit_log. Before and After are marshalled to JSON; they must
// never hold a secret (userAudit is the shape used for users).
type auditEntry struct {
	Actor  Actor
	Action AuditAction
	// TargetType is what TargetID names (empty: a user).
	TargetType AuditTarget
	TargetID   *int64
	Before     any
	After      any
}

// userAudit is what the audit log keeps of a user: everything but the password hash and the
// lockout bookkeeping.
type userAudit struct {
	Username string  `json:"username"`
	Email    *string `json:"email,omitempty"`
	Role     Role    `json:"role"`
	AreaID   *int64  `json:"areaId,omitempty"`
	Active   bool    `json:"active"`
}

func auditOf(u *User) *userAudit {
	if u == nil {
		return nil
	}
	return &userAudit{Username: u.Username, Email: u.Email, Role: u.Role, AreaID: u.AreaID, Active: u.Active}
}

// billAudit is what the audit log keeps of a bill at a completion or reopening: its number
// and counters, and who had completed it when.
type billAudit struct {
	BillNumber     string     `json:"billNumber"`
	Status         BillStatus `json:"status"`
	ParentBagCount int        `json:"parentBagCount"`
	ChildBagCount  int        `json:"childBagCount"`
	CompletedAt    *time.Time `json:"completedAt,omitempty"`
	CompletedByID  *int64     `json:"completedById,omitempty"`
	// ReturnTicket is the ticket whose return took the bill's last parent, which ended its
	// completion (a completed bill is never empty).
	ReturnTicket string `json:"returnTicket,omitempty"`
}

func auditOfBill(b *Bill) *billAudit {
	return &billAudit{BillNumber: b.BillNumber, Status: b.Status, ParentBagCount: b.ParentBagCount,
		ChildBagCount: b.ChildBagCount, CompletedAt: b.CompletedAt, CompletedByID: b.CompletedByID}
}

// ticketAudit is what the audit log keeps of a return ticket; bags is what one scanReturn
// call returned (BAGS_RETURNED only).
type ticketAudit struct {
	Code       string             `json:"code"`
	CFLocation string             `json:"cfLocation"`
	Notes      *string            `json:"notes,omitempty"`
	Status     ReturnTicketStatus `json:"status"`
	BagCount   int                `json:"bagCount"`
	ChildCount int                `json:"childCount"`
	Bags       []returnedAudit    `json:"bags,omitempty"`
}

type returnedAudit struct {
	QR         string `json:"qr"`
	BillNumber string `json:"billNumber"`
	ChildCount int    `json:"childCount"`
}

func auditOfTicket(t *ReturnTicket) *ticketAudit {
	return &ticketAudit{Code: t.Code, CFLocation: t.CFLocation, Notes: t.Notes, Status: t.Status,
		BagCount: t.BagCount, ChildCount: t.ChildCount}
}

// audit appends an entry to the audit log inside the caller's transaction, so the entry
// exists exactly when the change it describes does.
func audit(ctx context.Context, tx sqlx.ExecerContext, e auditEntry) error {
	before, err := jsonOrNull(e.Before)
	if err != nil {
		return wrap(err, "encode audit entry")
	}
	after, err := jsonOrNull(e.After)
	if err != nil {
		return wrap(err, "encode audit entry")
	}
	var targetType *AuditTarget
	if e.TargetID != nil {
		kind := cmp.Or(e.TargetType, AuditTargetUser)
		targetType = &kind
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after, request_id, remote_addr)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), NULLIF($8, ''))`,
		e.Actor.UserID, e.Action, targetType, e.TargetID, before, after, e.Actor.RequestID, e.Actor.RemoteAddr)
	return wrap(err, "write audit log")
}

// jsonOrNull marshals v, keeping a nil value (or nil pointer) as SQL NULL.
func jsonOrNull(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil || string(raw) == "null" {
		return nil, err
	}
	s := string(raw)
	return &s, nil
}

// AuditEntry is a row of the audit log as tests, operators and auditLog read it. Before and
// After are JSON text.
type AuditEntry struct {
	ID         int64        `db:"id"`
	At         time.Time    `db:"at"`
	ActorID    *int64       `db:"actor_id"`
	Action     AuditAction  `db:"action"`
	TargetType *AuditTarget `db:"target_type"`
	TargetID   *int64       `db:"target_id"`
	Before     *string      `db:"before"`
	After      *string      `db:"after"`
	RequestID  *string      `db:"request_id"`
	RemoteAddr *string      `db:"remote_addr"`
}

// auditColumns are the columns AuditEntry reads.
const auditColumns = `id, at, actor_id, action, target_type, target_id, before, after, request_id, remote_addr`

// AuditLog returns the audit entries with the action, oldest first.
func (s *Store) AuditLog(ctx context.Context, action AuditAction) ([]AuditEntry, error) {
	var entries []AuditEntry
	err := s.db.SelectContext(ctx, &entries, `
		SELECT `+auditColumns+`
		FROM audit_log
		WHERE action = $1
		ORDER BY id`, action)
	return entries, wrap(err, "read audit log")
}

// AuditFilter narrows the audit log; zero fields do not filter.
type AuditFilter struct {
	Actions []AuditAction
	ActorID *int64
	// Target is an entry's subject: TargetType and TargetID together.
	TargetType *AuditTarget
	TargetID   *int64
	After      *time.Time
	Before     *time.Time
}

// AuditEntries returns a page of the audit log matching the filter, newest first. The audit
// log is the admins' (the schema's @auth says so): it takes no area scope, as logins, users
// and bills belong to no area.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter, page Page) ([]*AuditEntry, bool, error) {
	c := &conditions{}
	anyOf(c, "action", f.Actions)
	if f.ActorID != nil {
		c.add("actor_id = ?", *f.ActorID)
	}
	if f.TargetID != nil {
		c.add("target_type = ? AND target_id = ?", *f.TargetType, *f.TargetID)
	}
	c.window("at", f.After, f.Before)
	if page.AfterID > 0 {
		c.add("id < ?", page.AfterID)
	}
	var entries []*AuditEntry
	err := s.reader().SelectContext(ctx, &entries, `SELECT `+auditColumns+` FROM audit_log`+c.where()+
		` ORDER BY id DESC LIMIT `+c.arg(page.Limit+1), c.args...)
	if err != nil {
		return nil, false, wrap(err, "read audit log")
	}
	entries, more := trim(entries, page)
	return entries, more, nil
}
