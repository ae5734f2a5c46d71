package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

const scanParentQuery = `mutation($qr: String!) { scanParent(qr: $qr) { qr status childCount } }`

func (vu *virtualUser) parentScan(ctx context.Context) { vu.newParent(ctx) }

// newParent scans a parent to fill: first a random M444- QR (a new parent while free QRs are
// left; another area's gives FORBIDDEN, a collision counted apart from errors), else one of the
// caller's own area that still has room, from a list of them. At full seed no parent QR is
// free and nine in ten belong to other areas, so guessing on would make most of the load
// collisions; one guess per scan keeps the mix's share of parent scans.
func (vu *virtualUser) newParent(ctx context.Context) bool {
	qr := fmt.Sprintf("M444-%05d", vu.rng.IntN(100000))
	for attempt := 0; attempt < 2; attempt++ {
		if attempt == 1 {
			if qr = vu.roomyParent(ctx); qr == "" {
				return false
			}
		}
		var out struct {
			ScanParent struct {
				ChildCount int `json:"childCount"`
			} `json:"scanParent"`
		}
		start := time.Now()
		err := vu.c.do(ctx, scanParentQuery, map[string]any{"qr": qr}, &out)
		switch {
		case err != nil && ctx.Err() != nil:
			return false
		case codeOf(err) == "FORBIDDEN":
			vu.rec.collision("parent-scan", start)
			continue
		}
		vu.rec.record("parent-scan", start, err)
		if err != nil {
			return false
		}
		vu.remember(qr)
		if out.ScanParent.ChildCount < vu.run.maxChildren {
			vu.scanned = append(vu.scanned, knownParent{qr: qr, children: out.ScanParent.ChildCount})
			return true
		}
	}
	return false
}

const roomyParentsQuery = `query($s: BagStatus!, $p: String!) { bags(first: 50, filter: {type: PARENT, status: $s, qrPrefix: $p}) {
  edges { node { qr } } } }`

// roomyParent returns a parent of the caller's area with room (a dispatcher's bag list is
// their area's), listing partly filled and then empty ones when the last list is used up;
// "" when there is none. The list is recorded as a bag-list request. It lists under a random
// QR prefix (about 1,000 QRs, a hundred of the area's): every user of an area listing the
// same newest parents would have them all queue on the same parent rows, which no warehouse
// does.
func (vu *virtualUser) roomyParent(ctx context.Context) string {
	prefix := fmt.Sprintf("%s%02d", []string{"SB", "M444-"}[vu.rng.IntN(2)], vu.rng.IntN(100))
	for _, status := range []string{"IN_PROGRESS", "PENDING"} {
		if len(vu.roomy) > 0 {
			break
		}
		qrs, ok := vu.bagQRs(ctx, roomyParentsQuery, map[string]any{"s": status, "p": prefix})
		if !ok {
			return ""
		}
		vu.roomy = append(vu.roomy, qrs...)
	}
	if len(vu.roomy) == 0 {
		return ""
	}
	i := vu.rng.IntN(len(vu.roomy))
	qr := vu.roomy[i]
	vu.roomy = slices.Delete(vu.roomy, i, i+1)
	return qr
}

const scanChildrenQuery = `mutation($p: String!, $c: [String!]!) { scanChildren(parentQr: $p, childQrs: $c) {
  parent { childCount } linked { qr } alreadyLinked { qr } rejected { qr code } } }`

// childScan links a batch of 5-30 new children (fewer when the parent has less room) to a
// parent this user scanned in this run, scanning a new parent first when none has room.
func (vu *virtualUser) childScan(ctx context.Context) {
	if len(vu.scanned) == 0 && !vu.newParent(ctx) {
		return
	}
	i := len(vu.scanned) - 1
	p := &vu.scanned[i]
	n := min(5+vu.rng.IntN(26), vu.run.maxChildren-p.children)
	var out struct {
		ScanChildren struct {
			Parent struct {
				ChildCount int `json:"childCount"`
			} `json:"parent"`
			Rejected []struct {
				Code string `json:"code"`
			} `json:"rejected"`
		} `json:"scanChildren"`
	}
	err := vu.do(ctx, "child-scan", scanChildrenQuery, map[string]any{"p": p.qr, "c": vu.run.childQRs(n)}, &out)
	if err != nil {
		vu.scanned = vu.scanned[:i]
		return
	}
	for _, r := range out.ScanChildren.Rejected {
		vu.rec.rejected("child-scan", r.Code)
	}
	p.children = out.ScanChildren.Parent.ChildCount
	if p.children >= vu.run.maxChildren {
		vu.scanned = vu.scanned[:i]
	}
}

const createBillQuery = `mutation($in: CreateBillInput!) { createBill(input: $in) { id billNumber status } }`

const linkBagsQuery = `mutation($b: ID!, $q: [String!]!) { linkBagsToBill(billId: $b, parentQrs: $q) {
  bill { status parentBagCount childBagCount totalWeightKg } linked { qr } rejected { qr code } } }`

// billCapacity is the capacity of every bill the generator creates; it links 1-10 parents.
const billCapacity = 20

// bill creates a bill and links unbilled parents of any area to it.
func (vu *virtualUser) bill(ctx context.Context) {
	if len(vu.unbilled) == 0 {
		vu.bagList(ctx)
	}
	number := fmt.Sprintf("LG-%s-%d", vu.run.prefix, vu.run.bills.Add(1))
	var created struct {
		CreateBill struct {
			ID string `json:"id"`
		} `json:"createBill"`
	}
	in := map[string]any{"billNumber": number, "capacity": billCapacity, "destination": "loadgen"}
	if vu.do(ctx, "bill-create", createBillQuery, map[string]any{"in": in}, &created) != nil || len(vu.unbilled) == 0 {
		return
	}
	n := min(1+vu.rng.IntN(10), len(vu.unbilled))
	qrs := vu.unbilled[len(vu.unbilled)-n:]
	vu.unbilled = vu.unbilled[:len(vu.unbilled)-n]
	var out struct {
		LinkBagsToBill struct {
			Rejected []struct {
				Code string `json:"code"`
			} `json:"rejected"`
		} `json:"linkBagsToBill"`
	}
	if vu.do(ctx, "bill-link", linkBagsQuery, map[string]any{"b": created.CreateBill.ID, "q": qrs}, &out) != nil {
		return
	}
	for _, r := range out.LinkBagsToBill.Rejected {
		vu.rec.rejected("bill-link", r.Code)
	}
}
