package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The default label series (SPEC.md) hold 100,000 SB and 100,000 M444- parent QRs; a larger
// data set needs more, so the seed adds the series SB + 7 digits (extraSeries) and numbers
// the parents past the defaults in it. Each parent holds at most 30 children: no data set
// the seed makes holds more bags than maxBags.
const (
	defaultParentQRs = 200_000
	extraParentQRs   = 10_000_000
	parentQRs        = defaultParentQRs + extraParentQRs
	childrenPerFull  = 30
	maxBags          = parentQRs * (1 + childrenPerFull)
	areaCount        = 10
	history          = 90 * 24 * time.Hour
)

// extraSeries is the label series the parents past the defaults are numbered in.
var extraSeries = struct {
	prefix string
	digits int
}{"SB", 7}

// parentPlan is one parent bag to create and what hangs off it.
type parentPlan struct {
	QR        string
	Area      int64
	Children  int
	CreatedAt time.Time
	Bill      int // index into plan.bills, -1 for none
}

// billPlan is one bill and the parents it holds.
type billPlan struct {
	Number    string
	Capacity  int
	Parents   []int // indexes into plan.parents
	Completed bool
	CreatedAt time.Time
}

type plan struct {
	parents []parentPlan
	bills   []billPlan
	bags    int
}

// parentQR returns the i-th parent QR: SB00000..SB99999, then M444-00000..M444-99999, then
// SB0000000..SB9999999 (extraSeries).
func parentQR(i int) string {
	switch {
	case i < 100_000:
		return fmt.Sprintf("SB%05d", i)
	case i < defaultParentQRs:
		return fmt.Sprintf("M444-%05d", i-100_000)
	}
	return fmt.Sprintf("%s%0*d", extraSeries.prefix, extraSeries.digits, i-defaultParentQRs)
}

// needsExtraSeries says whether the plan numbers parents in extraSeries.
func (p *plan) needsExtraSeries() bool { return len(p.parents) > defaultParentQRs }

// childQR returns the n-th child QR, a printed label number.
func childQR(n int) string { return fmt.Sprintf("%08d", n) }

// makePlan decides the shape of the data: 85% of parents full, 10% partial, 5% still empty;
// about 40% of full parents on bills of 20-100, bills in every status.
func makePlan(bags int, rng *rand.Rand, now time.Time) *plan {
	p := &plan{}
	// the newest parent is a working day old, so its children, bill link and completion
	// (hours later) all lie in the past
	start, span := now.Add(-history), history-8*time.Hour
	estimate := max(1, bags/28)
	for i := 0; p.bags < bags && i < parentQRs; i++ {
		children := childrenPerFull
		switch r := rng.IntN(100); {
		case r < 5:
			children = 0
		case r < 15:
			children = 1 + rng.IntN(childrenPerFull-1)
		}
		children = min(children, bags-p.bags-1)
		at := start.Add(time.Duration(float64(span) * min(1, float64(i)/float64(estimate))))
		p.parents = append(p.parents, parentPlan{QR: parentQR(i), Area: int64(1 + i%areaCount), Children: children, CreatedAt: at, Bill: -1})
		p.bags += 1 + children
	}
	p.planBills(rng, now)
	return p
}

// planBills groups full parents into bills: completed bills at capacity, bills in progress
// part full, and some open bills with nothing linked yet.
func (p *plan) planBills(rng *rand.Rand, now time.Time) {
	var current *billPlan
	for i := range p.parents {
		if p.parents[i].Children != childrenPerFull || rng.IntN(100) >= 40 {
			continue
		}
		if current == nil || len(current.Parents) == current.fill() {
			p.addOpenBills(rng, now)
			p.bills = append(p.bills, billPlan{
				Number:    fmt.Sprintf("BILL-%06d", len(p.bills)+1),
				Capacity:  20 + rng.IntN(81),
				Completed: len(p.bills)%2 == 1,
				CreatedAt: p.parents[i].CreatedAt.Add(time.Hour),
			})
			current = &p.bills[len(p.bills)-1]
		}
		current.Parents = append(current.Parents, i)
		p.parents[i].Bill = len(p.bills) - 1
	}
}

// fill is how many parents the bill gets: all of its capacity when completed, part of it
// while in progress.
func (b *billPlan) fill() int {
	if b.Completed {
		return b.Capacity
	}
	return max(1, b.Capacity*2/3)
}

// addOpenBills adds a bill with no parents yet before every seventh bill (the first
// included), so every status is present whatever the size.
func (p *plan) addOpenBills(rng *rand.Rand, now time.Time) {
	if len(p.bills)%7 == 0 {
		p.bills = append(p.bills, billPlan{
			Number:    fmt.Sprintf("BILL-%06d", len(p.bills)+1),
			Capacity:  20 + rng.IntN(81),
			CreatedAt: now.Add(-time.Duration(rng.IntN(72)) * time.Hour),
		})
	}
}
