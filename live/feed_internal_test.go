package live

import (
	"context"
	"slices"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/testdb"
)

// newTestFeed returns a feed on a fresh database that no goroutine runs: the test polls it,
// and what it publishes is queued for the returned subscription.
func newTestFeed(t *testing.T) (*feed, *subscription, *db.Store) {
	t.Helper()
	store, err := db.Open(context.Background(), testdb.New(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opts := Options{Buffer: 10_000}
	opts.defaults()
	h := &Hub{opts: opts, store: store, subs: make(map[*subscription]struct{})}
	sub := h.subscribe(context.Background(), func(Event) bool { return true }, false)
	f := &feed{hub: h}
	if err := f.poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, sub, store
}

// pollCounted polls once and returns how many statements it ran.
func pollCounted(t *testing.T, f *feed) int64 {
	t.Helper()
	ctx, counter := db.WithStatementCounter(context.Background())
	if err := f.poll(ctx); err != nil {
		t.Fatal(err)
	}
	return counter.Count()
}

func drain(sub *subscription) []Event {
	var events []Event
	for {
		select {
		case ev := <-sub.events:
			events = append(events, *ev)
		default:
			return events
		}
	}
}

func exec(t *testing.T, store *db.Store, query string, args ...any) {
	t.Helper()
	if _, err := store.DB().Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// An idle poll is one statement (tt_live_tick finds nothing new and writes nothing); a poll
// that finds one change runs a fixed handful, whatever else the database holds.
func TestIdlePollIsOneStatement(t *testing.T) {
	t.Parallel()
	f, sub, store := newTestFeed(t)
	for range 3 {
		if n := pollCounted(t, f); n != 1 {
			t.Fatalf("an idle poll ran %d statements, want 1", n)
		}
	}
	exec(t, store, `INSERT INTO scans (kind, bag_qr) VALUES ('PARENT_SCANNED', 'SB00001')`)
	// the tick, then its scans (the tick says the batch holds no bill change)
	if n := pollCounted(t, f); n != 2 {
		t.Fatalf("a poll that finds a scan ran %d statements, want 2", n)
	}
	if events := drain(sub); len(events) != 1 || events[0].Scan == nil || events[0].Scan.BagQR != "SB00001" {
		t.Fatalf("published %+v, want the one scan", events)
	}
	if n := pollCounted(t, f); n != 1 {
		t.Fatalf("an idle poll after a change ran %d statements, want 1", n)
	}
	if events := drain(sub); len(events) != 0 {
		t.Fatalf("an idle poll published %+v", events)
	}
}

// With no subscription on the instance a poll that finds a change reads nothing of it (the
// tick only), and the first subscription gets what commits after it began.
func TestPollWithoutSubscribersReadsNoRows(t *testing.T) {
	t.Parallel()
	f, sub, store := newTestFeed(t)
	f.hub.unsubscribe(sub)
	exec(t, store, `INSERT INTO scans (kind, bag_qr) VALUES ('PARENT_SCANNED', 'SB00001')`)
	if n := pollCounted(t, f); n != 1 {
		t.Fatalf("a poll with nobody subscribed ran %d statements, want 1 (the tick)", n)
	}
	sub = f.hub.subscribe(context.Background(), func(Event) bool { return true }, false)
	exec(t, store, `INSERT INTO scans (kind, bag_qr) VALUES ('PARENT_SCANNED', 'SB00002')`)
	if n := pollCounted(t, f); n != 2 {
		t.Fatalf("a poll that finds a scan for a subscriber ran %d statements, want 2", n)
	}
	if events := drain(sub); len(events) != 1 || events[0].Scan == nil || events[0].Scan.BagQR != "SB00002" {
		t.Fatalf("published %+v, want the one scan committed after the subscription", events)
	}
}

// Batches larger than one read, over several ticks and within one tick, are read in parts
// and published whole, in feed order, each scan once.
func TestLargeBatchesArePublishedWholeInOrder(t *testing.T) {
	t.Parallel()
	f, sub, store := newTestFeed(t)
	insert := func(n int) {
		exec(t, store, `INSERT INTO scans (kind, bag_qr) SELECT 'PARENT_SCANNED', 'SB' || g FROM generate_series(1, $1) g`, n)
	}
	tick := func() {
		if _, err := store.LiveTick(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// three ticks of 600 (halved twice), then one tick of 2,500 (paged)
	for range 3 {
		insert(600)
		tick()
	}
	insert(2500)
	if n := pollCounted(t, f); n < 5 {
		t.Fatalf("the poll ran %d statements", n)
	}
	events := drain(sub)
	if len(events) != 4300 {
		t.Fatalf("published %d events, want 4300", len(events))
	}
	if !slices.IsSortedFunc(events, func(a, b Event) int { return a.Pos.compare(b.Pos) }) {
		t.Fatal("events are not in feed order")
	}
	ids := make(map[int64]bool)
	ticks := make(map[int64]int)
	for _, ev := range events {
		if ev.Scan == nil || ids[ev.Scan.ID] {
			t.Fatalf("event %+v is not a new scan", ev)
		}
		ids[ev.Scan.ID] = true
		ticks[ev.Pos.Tick]++
	}
	counts := make([]int, 0, len(ticks))
	for _, n := range ticks {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{600, 600, 600, 2500}) {
		t.Fatalf("scans per tick %v, want 600, 600, 600 and 2500", counts)
	}
}
