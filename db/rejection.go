package db

import (
	"context"
	"fmt"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
	"tracetrack/qr"
)

// RejectionCode is why one QR of a batch (scanChildren, linkBagsToBill) was refused: the
// contract's ScanRejectionCode, bound to it by gqlgen.
type RejectionCode string

// The contract's rejection codes.
const (
	RejectInvalidQR        RejectionCode = "INVALID_QR"
	RejectIsParent         RejectionCode = "IS_PARENT"
	RejectIsChild          RejectionCode = "IS_CHILD"
	RejectLinkedToOther    RejectionCode = "LINKED_TO_OTHER_PARENT"
	RejectParentFull       RejectionCode = "PARENT_FULL"
	RejectOnOtherBill      RejectionCode = "ON_OTHER_BILL"
	RejectBillFull         RejectionCode = "BILL_FULL"
	RejectBillCompleted    RejectionCode = "BILL_COMPLETED"
	RejectNotFound         RejectionCode = "NOT_FOUND"
	RejectDuplicateInBatch RejectionCode = "DUPLICATE_IN_BATCH"
	RejectForbiddenArea    RejectionCode = "FORBIDDEN_AREA"
	// Returns (scanReturn) add two codes to the contract's.
	RejectNotOnBill       RejectionCode = "NOT_ON_BILL"
	RejectAlreadyReturned RejectionCode = "ALREADY_RETURNED"
)

// Rejection is a QR of a batch that was not linked, with its code and a message for a person.
// It is the contract's ScanRejection (gqlgen binds it as is).
type Rejection struct {
	QR      string
	Code    RejectionCode
	Message string
}

// Batch caps: the most QRs one call takes. A larger batch is refused as a whole, before
// anything is looked up.
const (
	MaxChildrenPerScanBatch = 30
	MaxLinkBatch            = 100
	MaxReturnBatch          = 100
)

// checkBatchSize is the BAD_USER_INPUT of a batch over its cap.
func checkBatchSize(n, most int, what string) error {
	if n > most {
		return apperr.New(apperr.BadUserInput, "send at most %d %s per call, got %d; split the list", most, what, n)
	}
	return nil
}

// triageBatch normalises a batch and rejects what can be told without the database: repeats
// (a QR seen before in the batch, valid or not, was handled once), malformed QRs, and QRs of
// the wrong kind (want is qr.Child for child scans, qr.Parent for bill links). It returns the
// QRs left, in batch order, and the rejections, in batch order.
func (s *Store) triageBatch(ctx context.Context, raws []string, want qr.Kind) (codes []string, rejected []Rejection, err error) {
	rules, err := s.QRRules(ctx)
	if err != nil {
		return nil, nil, err
	}
	codes, rejected = triage(rules, raws, want)
	return codes, rejected, nil
}

// triage is triageBatch against the rules of the series in use.
func triage(rules qr.Rules, raws []string, want qr.Kind) (codes []string, rejected []Rejection) {
	seen := make(map[string]bool, len(raws))
	for _, raw := range raws {
		code := qr.Normalize(raw)
		switch kind := rules.Classify(code); {
		case seen[code]:
			rejected = append(rejected, rejectDuplicate(code))
		case kind == qr.Invalid:
			rejected = append(rejected, rejectInvalid(rules, code))
		case kind != want:
			rejected = append(rejected, rejectWrongKind(code, want))
		default:
			codes = append(codes, code)
		}
		seen[code] = true
	}
	return codes, rejected
}

// The rejection messages, one function each: they say what is wrong and what to do, and name
// other bags or bills only when the caller passes what it may see. A message that may be
// about a bag of another area (a repeat, a parent QR or bag, a child of another parent, a
// concurrent link) does not repeat its QR either: that is the rejection's qr, beside it, and
// repeating it would confirm another area's bag to a dispatcher.

func rejectDuplicate(code string) Rejection {
	return Rejection{code, RejectDuplicateInBatch, "this QR appears more than once in this batch; it was handled once"}
}

func rejectInvalid(rules qr.Rules, code string) Rejection {
	return Rejection{code, RejectInvalidQR, fmt.Sprintf("%s is not a valid QR: %s", scalar.Quote(code), rules.Describe())}
}

// rejectWrongKind refuses a parent QR in a child scan (IS_PARENT) or a child QR in a bill
// link (IS_CHILD).
func rejectWrongKind(code string, want qr.Kind) Rejection {
	if want == qr.Parent {
		return rejectIsChild(code)
	}
	return Rejection{code, RejectIsParent, "this is a parent QR; only child bags go into a parent"}
}

// rejectIsParent refuses a code that exists as a parent bag in a child scan.
func rejectIsParent(code string) Rejection {
	return Rejection{code, RejectIsParent, "this is a parent bag; only child bags go into a parent"}
}

func rejectIsChild(code string) Rejection {
	return Rejection{code, RejectIsChild, code + " is a child QR; only parent bags go on bills and return tickets: scan its parent bag's label"}
}

// rejectLinkedToOther refuses a child of another parent; parentQR is that parent when the
// caller may see it, nil when it may not be named.
func rejectLinkedToOther(code string, parentQR *string) Rejection {
	if parentQR == nil {
		return Rejection{code, RejectLinkedToOther, "this child is already in another parent bag; it cannot go into this one"}
	}
	return Rejection{code, RejectLinkedToOther, fmt.Sprintf("%s is already in parent %s; unlink it there first", code, *parentQR)}
}

// rejectTakenMeanwhile refuses a child a concurrent scan linked to another parent first.
func rejectTakenMeanwhile(code string) Rejection {
	return Rejection{code, RejectLinkedToOther, "this child was just linked to another parent by a concurrent scan"}
}

func rejectParentFull(code, parentQR string, capacity int) Rejection {
	return Rejection{code, RejectParentFull, fmt.Sprintf("parent %s is full (%d of %d); scan a new parent for %s", parentQR, capacity, capacity, code)}
}

// rejectBillCompleted refuses a child for a parent on a completed bill.
func rejectBillCompleted(code, parentQR, billNumber string) Rejection {
	return Rejection{code, RejectBillCompleted, fmt.Sprintf("parent %s is on bill %s, which is completed; reopen bill %s first to add %s",
		parentQR, billNumber, billNumber, code)}
}

func rejectNoParent(code string) Rejection {
	return Rejection{code, RejectNotFound, "no parent bag " + code + "; scan it as a parent first"}
}

func rejectOnOtherBill(code, billNumber string) Rejection {
	return Rejection{code, RejectOnOtherBill, fmt.Sprintf("%s is on bill %s; unlink it there first", code, billNumber)}
}

// rejectOnOtherBillMeanwhile refuses a parent a concurrent call put on another bill first.
func rejectOnOtherBillMeanwhile(code string) Rejection {
	return Rejection{code, RejectOnOtherBill, code + " went onto another bill meanwhile; unlink it there first"}
}

func rejectBillFull(code, billNumber string, capacity int) Rejection {
	return Rejection{code, RejectBillFull, fmt.Sprintf("bill %s is full (%d of %d parent bags); %s was not added", billNumber, capacity, capacity, code)}
}

// errBillCompleted is the CONFLICT of a single-bag change (unlink, undo, delete) under a
// completed bill: what was refused, and what to do.
func errBillCompleted(refused, billNumber string) error {
	return apperr.New(apperr.Conflict, "%s: bill %s is completed; reopen bill %s first", refused, billNumber, billNumber)
}

// rejectForbiddenArea refuses a bag of an area the caller may not see (a parent in a bill
// link). It names nothing of the bag, not even the QR the caller sent: that is the
// rejection's qr.
func rejectForbiddenArea(code string) Rejection {
	return Rejection{code, RejectForbiddenArea, "that bag belongs to another dispatch area than yours; it was not linked"}
}

// rejectNotOnBill refuses the return of a parent that is on no bill: nothing was dispatched.
func rejectNotOnBill(code string) Rejection {
	return Rejection{code, RejectNotOnBill, code + " is on no bill, so there is nothing to return; only billed parent bags come back on a return ticket"}
}

// rejectAlreadyReturned refuses a parent already returned on another ticket (or on this one
// before it went onto a bill again).
func rejectAlreadyReturned(code, ticketCode string) Rejection {
	return Rejection{code, RejectAlreadyReturned, fmt.Sprintf("%s was already returned on ticket %s and is on no bill since; nothing to return", code, ticketCode)}
}

// rejectReturnedBefore refuses a parent this ticket already returned once, which went onto a
// bill again: a ticket lists a bag once.
func rejectReturnedBefore(code, ticketCode, billNumber string) Rejection {
	return Rejection{code, RejectAlreadyReturned, fmt.Sprintf("%s was returned on ticket %s before and is now on bill %s; return it on a new ticket", code, ticketCode, billNumber)}
}
