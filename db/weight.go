package db

// Weights are the weight formulas of SPEC.md, in one place for the API, the summaries and the
// CSV exports: a child bag weighs KgPerChild, a parent the sum of its children, a bill the
// sum of its parents' children, and a bill is expected to weigh its capacity in full parents.
type Weights struct {
	// KgPerChild is the weight of one child bag (SPEC: 1 kg, configurable).
	KgPerChild float64
	// ChildrenPerParent is how many children a full parent holds (SPEC: 30, configurable).
	ChildrenPerParent int
}

// Children is the weight of n child bags.
func (w Weights) Children(n int) float64 {
	return float64(n) * w.KgPerChild
}

// Bag is a bag's weight: a child weighs KgPerChild, a parent its children.
func (w Weights) Bag(b *Bag) float64 {
	if b.Type == BagTypeChild {
		return w.Children(1)
	}
	return w.Children(b.ChildCount)
}

// BillTotal is the weight of what is on a bill: all children of its parents.
func (w Weights) BillTotal(childBags int) float64 {
	return w.Children(childBags)
}

// BillExpected is what a bill of the capacity (in parent bags) weighs when every parent on
// it is full.
func (w Weights) BillExpected(capacity int) float64 {
	return w.Children(capacity * w.ChildrenPerParent)
}
