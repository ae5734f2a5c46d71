package resolvers_test

import (
	"database/sql"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func TestConcurrentLinksNeverOverfillABill(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	qrs := fx.parents(t, 100, 60, "indore")
	bill := mustCreateBill(t, env, biller, "B-RACE", 25)

	var linked atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 40; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			batch := make([]string, 5)
			for i := range batch {
				batch[i] = qrs[(g*3+i*7)%len(qrs)]
			}
			var out struct{ LinkBagsToBill linkOut }
			resp := linkBags(t, env, biller, bill.ID, batch)
			if len(resp.Errors) > 0 {
				t.Errorf("goroutine %d: %+v", g, resp.Errors)
				return
			}
			resp.Decode(t, &out)
			linked.Add(int64(len(out.LinkBagsToBill.Linked)))
		}(g)
	}
	wg.Wait()
	got := billByNumber(t, env, biller, "B-RACE")
	links := fx.count(t, `SELECT count(*) FROM bill_bags`)
	logged := fx.count(t, `SELECT count(*) FROM scans WHERE kind = 'BILL_LINKED'`)
	if got.ParentBagCount != 25 || links != 25 || linked.Load() != 25 || logged != 25 {
		t.Errorf("parentBagCount %d, links %d, reported linked %d, logged %d: want 25 each",
			got.ParentBagCount, links, linked.Load(), logged)
	}
}

func TestConcurrentLinksPutAParentOnOneBill(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	fx.parent(t, "M444-00001", "akola")
	bills := make([]string, 40)
	for i := range bills {
		bills[i] = mustCreateBill(t, env, biller, fmt.Sprintf("B-ONE-%02d", i), 5).ID
	}
	var linked, elsewhere atomic.Int64
	var wg sync.WaitGroup
	for _, id := range bills {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			var out struct{ LinkBagsToBill linkOut }
			resp := linkBags(t, env, biller, id, []string{"m444-00001"})
			if len(resp.Errors) > 0 {
				t.Errorf("link: %+v", resp.Errors)
				return
			}
			resp.Decode(t, &out)
			linked.Add(int64(len(out.LinkBagsToBill.Linked)))
			for _, r := range out.LinkBagsToBill.Rejected {
				if r.Code == "ON_OTHER_BILL" {
					elsewhere.Add(1)
				}
			}
		}(id)
	}
	wg.Wait()
	if linked.Load() != 1 || elsewhere.Load() != 39 || fx.count(t, `SELECT count(*) FROM bill_bags`) != 1 {
		t.Errorf("linked %d, ON_OTHER_BILL %d: want 1 and 39", linked.Load(), elsewhere.Load())
	}
	if n := fx.count(t, `SELECT sum(parent_bag_count) FROM bills`); n != 1 {
		t.Errorf("parent bags over all bills = %d, want 1", n)
	}
}

// TestMixedWorkloadKeepsEveryCounter races child inserts and deletes (SQL, as the scanning
// code's transactions do: parent locked first) against bill links and unlinks through the
// API, then checks integrity and that stats equal a recount.
func TestMixedWorkloadKeepsEveryCounter(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, biller := env.NewUser(t, db.RoleBiller, "")
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	areas := []string{"jaipur", "hisar", "raipur"}
	var qrs []string
	for i, area := range areas {
		qrs = append(qrs, fx.parents(t, 200+i*10, 10, area)...)
	}
	bills := []string{
		mustCreateBill(t, env, biller, "B-MIX-1", 6).ID,
		mustCreateBill(t, env, biller, "B-MIX-2", 8).ID,
		mustCreateBill(t, env, biller, "B-MIX-3", 30).ID,
	}
	var seq atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(g)))
			for op := 0; op < 25; op++ {
				qr := qrs[rng.Intn(len(qrs))]
				bill := bills[rng.Intn(len(bills))]
				switch rng.Intn(4) {
				case 0:
					addChild(t, fx, qr, fmt.Sprintf("MX%06d", seq.Add(1)))
				case 1:
					removeChild(t, fx, qr)
				case 2:
					if resp := linkBags(t, env, biller, bill, []string{qr, qrs[rng.Intn(len(qrs))]}); len(resp.Errors) > 0 {
						t.Errorf("link: %+v", resp.Errors)
					}
				default:
					if code := unlinkBag(t, env, biller, bill, qr).Code(); code != "" && code != "NOT_FOUND" {
						t.Errorf("unlink: code %s", code)
					}
				}
			}
		}(g)
	}
	wg.Wait()

	var report struct {
		Integrity struct {
			Ok       bool
			Problems []struct{ Kind, EntityID, Detail string }
		}
	}
	env.MustDo(t, admin, `{ integrity { ok problems { kind entityId detail } } }`, nil, &report)
	if !report.Integrity.Ok || len(report.Integrity.Problems) != 0 {
		t.Errorf("integrity after the mixed workload: %+v", report.Integrity)
	}
	var stats struct {
		Stats struct{ ParentBags, ChildBags, Bills, OpenBills, InProgressBills, TotalScans int }
	}
	env.MustDo(t, admin, `{ stats { parentBags childBags bills openBills inProgressBills totalScans } }`, nil, &stats)
	s := stats.Stats
	recount := []int{
		fx.count(t, `SELECT count(*) FROM bags WHERE type = 'PARENT'`),
		fx.count(t, `SELECT count(*) FROM bags WHERE type = 'CHILD'`),
		fx.count(t, `SELECT count(*) FROM bills`),
		fx.count(t, `SELECT count(*) FROM bills WHERE status = 'OPEN'`),
		fx.count(t, `SELECT count(*) FROM bills WHERE status = 'IN_PROGRESS'`),
		fx.count(t, `SELECT count(*) FROM scans`),
	}
	if got := []int{s.ParentBags, s.ChildBags, s.Bills, s.OpenBills, s.InProgressBills, s.TotalScans}; fmt.Sprint(got) != fmt.Sprint(recount) {
		t.Errorf("stats %v, recount %v", got, recount)
	}
	if recount[1] == 0 || fx.count(t, `SELECT count(*) FROM bill_bags`) == 0 {
		t.Errorf("the workload did too little to prove anything: %v", recount)
	}
}

// addChild inserts a child the way the scanning code does: parent locked, then the insert
// and its scan row; a full parent is left alone.
func addChild(t *testing.T, fx *fixture, parentQR, childQR string) {
	t.Helper()
	withParentLocked(t, fx, parentQR, func(tx *sql.Tx, id int64) error {
		_, err := tx.Exec(`
			WITH child AS (
				INSERT INTO bags (qr, type, parent_id, area_id)
				SELECT $1, 'CHILD', id, area_id FROM bags WHERE id = $2 AND child_count < capacity
				RETURNING qr, parent_id, area_id)
			INSERT INTO scans (kind, bag_qr, parent_id, area_id)
			SELECT 'CHILD_LINKED', qr, parent_id, area_id FROM child`, childQR, id)
		return err
	})
}

// removeChild deletes the newest child of the parent (parent locked first), if any.
func removeChild(t *testing.T, fx *fixture, parentQR string) {
	t.Helper()
	withParentLocked(t, fx, parentQR, func(tx *sql.Tx, id int64) error {
		_, err := tx.Exec(`DELETE FROM bags WHERE id = (SELECT max(id) FROM bags WHERE parent_id = $1)`, id)
		return err
	})
}

// withParentLocked runs change in a transaction that first locks the parent FOR NO KEY UPDATE.
func withParentLocked(t *testing.T, fx *fixture, parentQR string, change func(tx *sql.Tx, id int64) error) {
	t.Helper()
	tx, err := fx.db.Begin()
	if err != nil {
		t.Error(err)
		return
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRow(`SELECT id FROM bags WHERE qr = $1 FOR NO KEY UPDATE`, parentQR).Scan(&id); err != nil {
		t.Error(err)
		return
	}
	if err := change(tx, id); err != nil {
		t.Error(err)
		return
	}
	if err := tx.Commit(); err != nil {
		t.Error(err)
	}
}

// TestConcurrentFirstScansOfAParent: stations (or a retry racing its first try) scanning the
// same new parent at once each get the bag, one bag is made, and each scan is logged.
func TestConcurrentFirstScansOfAParent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	fx := newFixture(t, env)
	_, token := env.NewUser(t, db.RoleDispatcher, "hisar")
	const parents, scans = 20, 4
	var wg sync.WaitGroup
	for p := range parents {
		for range scans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := env.DoNoT(token, `mutation($q: String!) { scanParent(qr: $q) { qr } }`, map[string]any{"q": fmt.Sprintf("SB7%04d", p)})
				if len(resp.Errors) > 0 {
					t.Errorf("scanParent SB7%04d: %s %q", p, resp.Code(), resp.Errors[0].Message)
				}
			}()
		}
	}
	wg.Wait()
	if bags, logged := fx.count(t, `SELECT count(*) FROM bags WHERE qr LIKE 'SB7%'`),
		fx.count(t, `SELECT count(*) FROM scans WHERE kind = 'PARENT_SCANNED'`); bags != parents || logged != parents*scans {
		t.Errorf("%d bags, %d PARENT_SCANNED logged: want %d and %d", bags, logged, parents, parents*scans)
	}
}
