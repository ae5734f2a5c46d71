package db

import (
	"fmt"
	"strings"
	"testing"

	"tracetrack/apperr"
	"tracetrack/qr"
)

// One triage serves child scans and bill links: repeats first (a QR seen before, valid or
// not, was handled once), then malformed QRs, then the wrong kind for the call.
func TestTriageBatch(t *testing.T) {
	batch := []string{"SB00001", "sb00001", "C0016586", "bad qr", "BAD QR", "M444-00001", " label no.:0016586 ", "c0016586"}
	for _, tc := range []struct {
		want     qr.Kind
		lookup   string
		rejected string
	}{
		{qr.Parent, "SB00001,M444-00001",
			"SB00001:DUPLICATE_IN_BATCH,C0016586:IS_CHILD,BAD QR:INVALID_QR,BAD QR:DUPLICATE_IN_BATCH,0016586:IS_CHILD,C0016586:DUPLICATE_IN_BATCH"},
		{qr.Child, "C0016586,0016586",
			"SB00001:IS_PARENT,SB00001:DUPLICATE_IN_BATCH,BAD QR:INVALID_QR,BAD QR:DUPLICATE_IN_BATCH,M444-00001:IS_PARENT,C0016586:DUPLICATE_IN_BATCH"},
	} {
		lookup, rejected := triage(qr.NewRules(qr.DefaultSeries), batch, tc.want)
		codes := []string{}
		for _, r := range rejected {
			codes = append(codes, r.QR+":"+string(r.Code))
			// a message names its QR only where it cannot be another area's bag (malformed, or
			// the wrong kind for a bill link, which only billers and admins make)
			names := r.Code == RejectInvalidQR || r.Code == RejectIsChild
			if r.Message == "" || strings.Contains(r.Message, r.QR) != names {
				t.Errorf("want %v: rejection %+v: names its QR %v, want %v", tc.want, r, !names, names)
			}
		}
		if got := strings.Join(lookup, ","); got != tc.lookup {
			t.Errorf("want %v: lookup = %s, want %s", tc.want, got, tc.lookup)
		}
		if got := strings.Join(codes, ","); got != tc.rejected {
			t.Errorf("want %v: rejected = %s\nwant %s", tc.want, got, tc.rejected)
		}
	}
}

// Every rejection message says what was refused and what to do, and names another parent (or
// the QR, where the bag may be another area's) only when the caller may see it.
func TestRejectionMessages(t *testing.T) {
	other := "SB00099"
	for _, tc := range []struct {
		got      Rejection
		code     RejectionCode
		mentions []string
		hides    []string
	}{
		{rejectDuplicate("C0001"), RejectDuplicateInBatch, []string{"once"}, []string{"C0001"}},
		{rejectInvalid(qr.NewRules(qr.DefaultSeries), "BAD!"), RejectInvalidQR, []string{"BAD!", "SB + 5 digits"}, nil},
		{rejectWrongKind("SB00001", qr.Child), RejectIsParent, []string{"child bags"}, []string{"SB00001"}},
		{rejectWrongKind("C0001", qr.Parent), RejectIsChild, []string{"C0001", "parent bags"}, nil},
		{rejectIsParent("SB00001"), RejectIsParent, []string{"parent bag"}, []string{"SB00001"}},
		{rejectIsChild("C0001"), RejectIsChild, []string{"C0001", "bills"}, nil},
		{rejectLinkedToOther("C0001", &other), RejectLinkedToOther, []string{"C0001", other, "unlink"}, nil},
		{rejectLinkedToOther("C0001", nil), RejectLinkedToOther, []string{"another parent"}, []string{"SB", "C0001"}},
		{linkedElsewhere(System, "C0001", &existingBag{}), RejectIsParent, []string{"parent bag"}, nil},
		{linkedElsewhere(System, "C0001", &existingBag{ParentQR: &other}), RejectLinkedToOther, []string{"C0001", other}, nil},
		{linkedElsewhere(Actor{Role: RoleDispatcher, AreaID: ptr[int64](3)}, "C0001", &existingBag{Bag: Bag{AreaID: ptr[int64](1)}, ParentQR: &other}),
			RejectLinkedToOther, []string{"another parent"}, []string{other, "C0001"}},
		{rejectTakenMeanwhile("C0001"), RejectLinkedToOther, []string{"concurrent"}, []string{"C0001"}},
		{rejectParentFull("C0001", "SB00001", 30), RejectParentFull, []string{"C0001", "SB00001", "30 of 30", "new parent"}, nil},
		{rejectBillCompleted("C0001", "SB00001", "B-7"), RejectBillCompleted, []string{"C0001", "SB00001", "B-7", "reopen bill B-7"}, nil},
		{rejectNoParent("SB00002"), RejectNotFound, []string{"SB00002", "scan it as a parent"}, nil},
		{rejectOnOtherBill("SB00002", "B-9"), RejectOnOtherBill, []string{"SB00002", "B-9", "unlink"}, nil},
		{rejectOnOtherBillMeanwhile("SB00002"), RejectOnOtherBill, []string{"SB00002", "another bill"}, nil},
		{rejectBillFull("SB00002", "B-9", 5), RejectBillFull, []string{"SB00002", "B-9", "5 of 5"}, nil},
		{rejectForbiddenArea("SB00001"), RejectForbiddenArea, []string{"another dispatch area"}, []string{"SB00001"}},
	} {
		if tc.got.Code != tc.code {
			t.Errorf("%+v: code %s, want %s", tc.got, tc.got.Code, tc.code)
		}
		for _, m := range tc.mentions {
			if !strings.Contains(tc.got.Message, m) {
				t.Errorf("%s %q does not mention %q", tc.got.Code, tc.got.Message, m)
			}
		}
		for _, h := range tc.hides {
			if strings.Contains(tc.got.Message, h) {
				t.Errorf("%s %q names %q", tc.got.Code, tc.got.Message, h)
			}
		}
	}
}

func TestBillCompletedConflictSaysWhatToDo(t *testing.T) {
	err := errBillCompleted("child C0001 stays in parent SB00001", "B-7")
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Conflict || !strings.Contains(e.Message, "reopen bill B-7 first") || !strings.Contains(e.Message, "C0001") {
		t.Errorf("errBillCompleted = %v", err)
	}
}

func TestBatchCaps(t *testing.T) {
	for _, tc := range []struct {
		n, most int
		ok      bool
	}{{0, 30, true}, {30, 30, true}, {31, 30, false}, {100, MaxLinkBatch, true}, {101, MaxLinkBatch, false}} {
		err := checkBatchSize(tc.n, tc.most, "QRs")
		if (err == nil) != tc.ok {
			t.Errorf("checkBatchSize(%d, %d) = %v", tc.n, tc.most, err)
		}
		if e, isApp := apperr.As(err); err != nil && (!isApp || e.Code != apperr.BadUserInput || !strings.Contains(e.Message, fmt.Sprint(tc.most))) {
			t.Errorf("checkBatchSize(%d, %d) = %v, want BAD_USER_INPUT naming the cap", tc.n, tc.most, err)
		}
	}
}
