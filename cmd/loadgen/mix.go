package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Roles as the API names them.
const (
	roleDispatcher = "DISPATCHER"
	roleBiller     = "BILLER"
	roleAdmin      = "ADMIN"
)

var everyone = []string{roleDispatcher, roleBiller, roleAdmin}

// operation is one kind of user action of the mix; roles says who performs it.
type operation struct {
	name  string
	roles []string
	run   func(*virtualUser, context.Context)
}

// operations are the field test's actions. "bill" records two rows, bill-create and
// bill-link; an action that needs data it lacks (a parent, a bill candidate) fetches it
// first, recorded under the fetching operation's own row.
var operations = []operation{
	{"dashboard", everyone, (*virtualUser).dashboard},
	{"bag-list", everyone, (*virtualUser).bagList},
	{"bill-list", everyone, (*virtualUser).billList},
	{"stats", everyone, (*virtualUser).stats},
	{"parent-scan", []string{roleDispatcher}, (*virtualUser).parentScan},
	{"child-scan", []string{roleDispatcher}, (*virtualUser).childScan},
	{"bill", []string{roleBiller}, (*virtualUser).bill},
	{"bag-tree", everyone, (*virtualUser).bagTree},
}

const defaultMix = "dashboard=15,bag-list=15,bill-list=10,stats=10,parent-scan=10,child-scan=25,bill=5,bag-tree=10"

// mixEntry is an operation with its weight.
type mixEntry struct {
	op     *operation
	weight int
}

// parseMix reads "name=weight,..." into entries, rejecting unknown names.
func parseMix(s string) ([]mixEntry, error) {
	var mix []mixEntry
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		weight, err := strconv.Atoi(w)
		if !ok || err != nil || weight < 0 {
			return nil, fmt.Errorf("mix: %q is not name=weight", part)
		}
		i := slices.IndexFunc(operations, func(o operation) bool { return o.name == name })
		if i < 0 {
			return nil, fmt.Errorf("mix: unknown operation %q (known: %s)", name, operationNames())
		}
		if weight > 0 {
			mix = append(mix, mixEntry{op: &operations[i], weight: weight})
		}
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix: no operation has a positive weight")
	}
	return mix, nil
}

func operationNames() string {
	names := make([]string, len(operations))
	for i, o := range operations {
		names[i] = o.name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// forRole keeps the entries the role performs.
func forRole(mix []mixEntry, role string) []mixEntry {
	var out []mixEntry
	for _, e := range mix {
		if slices.Contains(e.op.roles, role) {
			out = append(out, e)
		}
	}
	return out
}

// runState is what all virtual users of a run share: the prefix that makes this run's
// child QRs and bill numbers unique, and counters.
type runState struct {
	prefix      string
	children    atomic.Int64
	bills       atomic.Int64
	maxChildren int
}

// newRunState draws a 6-letter prefix; letters only and no leading S, so that prefix and
// counter never spell a parent QR (SB + 5 digits).
func newRunState(maxChildren int) *runState {
	const letters = "ABCDEFGHIJKLMNOPQRTUVWXYZ"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return &runState{prefix: string(b), maxChildren: maxChildren}
}

func (s *runState) childQRs(n int) []string {
	qrs := make([]string, n)
	for i := range qrs {
		qrs[i] = s.prefix + strconv.FormatInt(s.children.Add(1), 10)
	}
	return qrs
}

// knownParent is a parent a dispatcher scanned in this run, with its children as last seen.
type knownParent struct {
	qr       string
	children int
}

// virtualUser is one signed-in session running the closed loop.
type virtualUser struct {
	c    *client
	rec  *recorder
	run  *runState
	rng  *rand.Rand
	role string
	mix  []mixEntry
	sum  int
	// think is the mean pause between operations: a person reading a screen or fetching
	// the next bag, so a virtual user is not a request-firing loop
	think time.Duration

	scanned  []knownParent // dispatchers: parents scanned in this run that still have room
	known    []string      // parents for bag-tree lookups
	unbilled []string      // billers: unbilled parents of their latest bag list
	roomy    []string      // dispatchers: their area's parents with room, not scanned yet
}

const knownCap = 50

// loop runs picked operations until ctx ends.
func (vu *virtualUser) loop(ctx context.Context) {
	for _, e := range vu.mix {
		vu.sum += e.weight
	}
	vu.pause(ctx) // users arrive spread over a think time, not all in the same millisecond
	for ctx.Err() == nil {
		vu.pick().run(vu, ctx)
		vu.pause(ctx)
	}
}

// pause waits a random think time, uniform in 0..2*think, or until ctx ends.
func (vu *virtualUser) pause(ctx context.Context) {
	if vu.think <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(vu.rng.Int64N(2 * int64(vu.think))))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (vu *virtualUser) pick() *operation {
	n := vu.rng.IntN(vu.sum)
	for _, e := range vu.mix {
		if n < e.weight {
			return e.op
		}
		n -= e.weight
	}
	return vu.mix[len(vu.mix)-1].op
}

// do sends a request and records it under name; a request cut by the end of the run is not
// recorded.
func (vu *virtualUser) do(ctx context.Context, name, query string, vars map[string]any, out any) error {
	start := time.Now()
	err := vu.c.do(ctx, query, vars, out)
	if err != nil && ctx.Err() != nil {
		return err
	}
	vu.rec.record(name, start, err)
	return err
}

func (vu *virtualUser) remember(qr string) {
	if len(vu.known) >= knownCap {
		vu.known[vu.rng.IntN(knownCap)] = qr
		return
	}
	vu.known = append(vu.known, qr)
}

const dashboardQuery = `{ stats { parentBags childBags bills openBills totalScans scansToday }
  scans(first: 20) { edges { node { id kind at bagQr user { username } } } } }`

func (vu *virtualUser) dashboard(ctx context.Context) {
	_ = vu.do(ctx, "dashboard", dashboardQuery, nil, nil)
}

const statsQuery = `{ stats { parentBags childBags bills openBills inProgressBills completedBills totalScans scansToday users } }`

func (vu *virtualUser) stats(ctx context.Context) {
	_ = vu.do(ctx, "stats", statsQuery, nil, nil)
}

const billListQuery = `{ bills(first: 20) { totalCount edges { node { id billNumber status capacity
  parentBagCount childBagCount totalWeightKg createdAt } } } }`

func (vu *virtualUser) billList(ctx context.Context) {
	_ = vu.do(ctx, "bill-list", billListQuery, nil, nil)
}

const bagListQuery = `query($f: BagFilter) { bags(first: 20, filter: $f) { totalCount
  edges { node { qr status childCount weightKg createdAt } } } }`

// bagList lists parents (billers: unbilled parents, their bill candidates) and remembers
// them for bag-tree lookups.
func (vu *virtualUser) bagList(ctx context.Context) {
	filter := map[string]any{"type": "PARENT"}
	if vu.role == roleBiller {
		filter["billed"] = false
	}
	qrs, ok := vu.bagQRs(ctx, bagListQuery, map[string]any{"f": filter})
	if !ok {
		return
	}
	vu.unbilled = vu.unbilled[:0] // the fresh page replaces candidates other billers may have taken
	for _, qr := range qrs {
		vu.remember(qr)
		if vu.role == roleBiller {
			vu.unbilled = append(vu.unbilled, qr)
		}
	}
}

// bagQRs runs a bags query, recorded as bag-list, and returns the QRs of its page.
func (vu *virtualUser) bagQRs(ctx context.Context, query string, vars map[string]any) ([]string, bool) {
	var out struct {
		Bags struct {
			Edges []struct {
				Node struct {
					QR string `json:"qr"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"bags"`
	}
	if vu.do(ctx, "bag-list", query, vars, &out) != nil {
		return nil, false
	}
	qrs := make([]string, 0, len(out.Bags.Edges))
	for _, e := range out.Bags.Edges {
		qrs = append(qrs, e.Node.QR)
	}
	return qrs, true
}

const bagTreeQuery = `query($qr: String!) { bag(qr: $qr) { qr status childCount
  children { edges { node { qr } } } } }`

func (vu *virtualUser) bagTree(ctx context.Context) {
	if len(vu.known) == 0 {
		vu.bagList(ctx)
		if len(vu.known) == 0 {
			return
		}
	}
	_ = vu.do(ctx, "bag-tree", bagTreeQuery, map[string]any{"qr": vu.known[vu.rng.IntN(len(vu.known))]}, nil)
}
