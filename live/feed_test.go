package live_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// heldScan logs a scan in a transaction it leaves open, and returns it with the scan's id.
func (f *fixture) heldScan(areaCode string) (*sql.Tx, int64) {
	f.t.Helper()
	tx, err := f.db.BeginTx(context.Background(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = tx.Rollback() })
	f.n++
	var id int64
	if err := tx.QueryRow(`
		INSERT INTO scans (kind, bag_qr, area_id)
		VALUES ('PARENT_SCANNED', $1, (SELECT id FROM areas WHERE code = $2)) RETURNING id`,
		fmt.Sprintf("SH%05d", f.n), areaCode).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return tx, id
}

func commit(t testing.TB, tx *sql.Tx) {
	t.Helper()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// nextScans reads n scans of subscription id.
func nextScans(t testing.TB, c *legacyClient, id string, n int) []int64 {
	t.Helper()
	got := make([]int64, n)
	for i := range got {
		got[i] = scanID(t, c.nextScan(id).ID)
	}
	return got
}

// A scan whose transaction was held open while later scans committed is published when it
// commits, after them, once, on every instance in the same order; `after` resumes from any
// scan of that order on either instance without losing the late one (a resume by id alone,
// "id > after", would skip it).
func TestOutOfOrderCommitsArriveOnceInCommitOrderOnBothInstances(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	fx := newFixture(t, a)
	ca, cb := connectLegacy(t, a, admin), connectLegacy(t, b, admin)
	ca.subscribe("1", scanAdded, nil)
	cb.subscribe("1", scanAdded, nil)
	waitSubscribed(t, a, 1)
	waitSubscribed(t, b, 1)

	held, late := fx.heldScan("jaipur")
	early := fx.scan("PARENT_SCANNED", "jaipur")
	middle := fx.scan("PARENT_SCANNED", "indore")
	want := []int64{early, middle}
	for _, c := range []*legacyClient{ca, cb} {
		assertSameIDs(t, nextScans(t, c, "1", 2), want)
	}
	commit(t, held)
	want = append(want, late)
	for _, c := range []*legacyClient{ca, cb} {
		assertSameIDs(t, nextScans(t, c, "1", 1), []int64{late})
		assertQuiet(t, c)
	}
	if late > early {
		t.Fatalf("scan ids %d (held) and %d: the held scan must have the lower id", late, early)
	}

	for i, resumeAt := range want {
		env := []*apitest.Env{a, b}[i%2]
		c := connectLegacy(t, env, admin)
		c.subscribe("r", scanAdded, map[string]any{"after": scanGlobalID(resumeAt)})
		assertSameIDs(t, nextScans(t, c, "r", len(want)-i-1), want[i+1:])
		assertQuiet(t, c)
		c.conn.Close()
	}
}

// Many transactions commit concurrently, each held open for a random while: every instance
// publishes each scan once, all in one order, and that order keeps commit order (a
// transaction that committed before another began comes first). A subscriber that leaves half
// way and resumes with `after` on the other instance gets the rest of that same order.
func TestConcurrentCommitsArriveOnceInOneCommitOrder(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	fx := newFixture(t, a)
	ca, cb, cr := connectLegacy(t, a, admin), connectLegacy(t, b, admin), connectLegacy(t, b, admin)
	for _, c := range []*legacyClient{ca, cb, cr} {
		c.subscribe("1", scanAdded, nil)
	}
	waitSubscribed(t, a, 1)
	waitSubscribed(t, b, 2)

	type written struct {
		ids        []int64
		began, end time.Time
	}
	const writers, each = 6, 12
	var (
		mu  sync.Mutex
		txs []written
		wg  sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				var tx written
				tx.began = time.Now()
				t2, err := fx.db.Begin()
				if err != nil {
					t.Error(err)
					return
				}
				for k := range 1 + rand.IntN(3) {
					var id int64
					if err := t2.QueryRow(`INSERT INTO scans (kind, bag_qr, area_id) VALUES ('PARENT_SCANNED', $1, 3) RETURNING id`,
						fmt.Sprintf("SC%d-%d-%d", w, i, k)).Scan(&id); err != nil {
						t.Error(err)
						return
					}
					tx.ids = append(tx.ids, id)
				}
				time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
				if err := t2.Commit(); err != nil {
					t.Error(err)
					return
				}
				tx.end = time.Now()
				mu.Lock()
				txs = append(txs, tx)
				mu.Unlock()
			}
		})
	}
	total := 0
	half := nextScans(t, cr, "1", 20)
	cr.conn.Close()
	wg.Wait()
	for _, tx := range txs {
		total += len(tx.ids)
	}
	got := nextScans(t, ca, "1", total)
	assertSameIDs(t, nextScans(t, cb, "1", total), got)
	assertQuiet(t, ca)
	assertQuiet(t, cb)
	assertSameIDs(t, half, got[:len(half)])
	resumed := connectLegacy(t, a, admin)
	resumed.subscribe("r", scanAdded, map[string]any{"after": scanGlobalID(half[len(half)-1])})
	assertSameIDs(t, append(half, nextScans(t, resumed, "r", total-len(half))...), got)
	assertQuiet(t, resumed)

	place := make(map[int64]int, total)
	for i, id := range got {
		if _, dup := place[id]; dup {
			t.Fatalf("scan %d published twice: %v", id, got)
		}
		place[id] = i
	}
	for _, x := range txs {
		for _, y := range txs {
			if !x.end.Before(y.began) {
				continue
			}
			if place[x.ids[len(x.ids)-1]] > place[y.ids[0]] {
				t.Fatalf("transaction %v committed before %v began, but was published after it", x.ids, y.ids)
			}
		}
	}
}

// A scan made through instance A's API reaches subscribers of A (woken by its own commit) and
// of B (at its next poll).
func TestScanThroughOneInstanceReachesSubscribersOfBoth(t *testing.T) {
	t.Parallel()
	a, b, admin := twoInstances(t)
	_, dispatcher := a.NewUser(t, db.RoleDispatcher, "jaipur")
	ca, cb := connectLegacy(t, a, admin), connectLegacy(t, b, admin)
	ca.subscribe("1", `subscription { scanAdded { bagQr } }`, nil)
	cb.subscribe("1", `subscription { scanAdded { bagQr } }`, nil)
	waitSubscribed(t, a, 1)
	waitSubscribed(t, b, 1)
	for _, qr := range []string{"SB61001", "SB61002"} {
		scanParentAs(t, a, dispatcher, qr)
		for name, c := range map[string]*legacyClient{"A": ca, "B": cb} {
			if got := c.nextScan("1").BagQR; got != qr {
				t.Fatalf("instance %s: got %s, want %s", name, got, qr)
			}
		}
	}
}

// The feed's connections are killed while a transaction is held open and scans commit: every
// scan still arrives once, the held one when it commits (the feed keeps its place in memory,
// not in a connection). What commits while the feed is cut off forms one batch, in
// transaction id order.
func TestFeedConnectionKilledWhileATransactionIsOpenLosesNothing(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx, c, _ := adminWatchingScans(t, env)
	held, late := fx.heldScan("hisar")
	before := fx.scans(3, "jaipur")
	assertSameIDs(t, nextScans(t, c, "1", 3), before)
	killListener(t, fx.db)
	during := fx.scans(3, "jaipur") // while the feed reconnects
	assertSameIDs(t, nextScans(t, c, "1", 3), during)
	commit(t, held)
	assertSameIDs(t, nextScans(t, c, "1", 1), []int64{late})
	killListener(t, fx.db)
	after := fx.scans(3, "jaipur")
	assertSameIDs(t, nextScans(t, c, "1", 3), after)
	assertQuiet(t, c)
}

// No trigger outside the session triggers (users, auth_tokens) notifies or takes an advisory
// lock: PostgreSQL serializes the commits of notifying transactions. And a scan through the
// API sends nothing on the old live channel.
func TestWritePathsNeitherNotifyNorTakeAdvisoryLocks(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx, c, admin := adminWatchingScans(t, env)
	rows, err := fx.db.Query(`
		SELECT t.tgrelid::regclass::text, t.tgname, p.proname
		FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE NOT t.tgisinternal
		  AND t.tgrelid::regclass::text NOT IN ('users', 'auth_tokens')
		  AND p.prosrc ~* '(notify|pg_advisory)'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, trigger, function string
		if err := rows.Scan(&table, &trigger, &function); err != nil {
			t.Fatal(err)
		}
		t.Errorf("trigger %s on %s runs %s, which notifies or takes an advisory lock", trigger, table, function)
	}

	notices := make(chan *pq.Notification, 16)
	listener := pq.NewListener(env.DatabaseURL, time.Second, time.Second, nil)
	defer listener.Close()
	if err := listener.Listen("tt_live"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for n := range listener.Notify {
			notices <- n
		}
	}()
	scanParentAs(t, env, admin, "SB62001")
	if got := c.nextScan("1").BagQR; got != "SB62001" {
		t.Fatalf("got scan of %s, want SB62001", got)
	}
	select {
	case n := <-notices:
		t.Fatalf("a scan sent a notification: %+v", n)
	case <-time.After(200 * time.Millisecond):
	}
}
