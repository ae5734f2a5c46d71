package db_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
)

// A child a concurrent scan takes first frees its place: the codes that did not fit at first
// go in instead of being refused as PARENT_FULL. The taken child is refused as one linked
// before would be: its parent named to an actor who may see it (an admin), not named to a
// dispatcher of another area.
func TestStolenChildLeavesRoomForTheRest(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	admin := newAdmin(t, store, "scanner")
	jaipur, lucknow := newDispatcher(t, store, "jaipur_scanner", "jaipur"), newDispatcher(t, store, "lucknow_scanner", "lucknow")
	for _, tc := range []struct {
		name              string
		scanner, thief    *db.User
		parentQR, otherQR string
		named             bool
	}{
		{"admin", admin, admin, "SB00001", "SB00002", true},
		{"dispatcher of another area", jaipur, lucknow, "SB00003", "SB00004", false},
	} {
		got := stealDuringBatch(t, store, tc.scanner, tc.thief, tc.parentQR, tc.otherQR)
		var linked []string
		for _, b := range got.Linked {
			linked = append(linked, b.QR)
		}
		if len(linked) != 2 || linked[0] != "FREE1"+tc.parentQR || linked[1] != "FREE2"+tc.parentQR {
			t.Errorf("%s: linked %v, want the two free codes", tc.name, linked)
		}
		if len(got.Rejected) != 1 || got.Rejected[0].Code != db.RejectLinkedToOther {
			t.Fatalf("%s: rejected %+v, want only the stolen code as %s", tc.name, got.Rejected, db.RejectLinkedToOther)
		}
		if named := strings.Contains(got.Rejected[0].Message, tc.otherQR); named != tc.named {
			t.Errorf("%s: message %q names %s: %v, want %v", tc.name, got.Rejected[0].Message, tc.otherQR, named, tc.named)
		}
		if got.Parent.ChildCount != 3 {
			t.Errorf("%s: parent holds %d children, want 3", tc.name, got.Parent.ChildCount)
		}
	}
}

// stealDuringBatch makes parentQR (capacity 3, one child) for the scanner and otherQR for the
// thief, then links three codes to parentQR while the thief's uncommitted transaction holds
// the first of them in otherQR; the thief commits once the batch waits for it.
func stealDuringBatch(t *testing.T, store *db.Store, scanner, thief *db.User, parentQR, otherQR string) *db.LinkResult {
	t.Helper()
	ctx := context.Background()
	if _, err := store.ScanParent(ctx, db.ActorOf(scanner), parentQR, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LinkChildren(ctx, db.ActorOf(scanner), parentQR, []string{"FIRST" + parentQR}); err != nil {
		t.Fatal(err)
	}
	other, err := store.ScanParent(ctx, db.ActorOf(thief), otherQR, 30)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	stolen := "STOLEN" + parentQR
	if _, err := tx.ExecContext(ctx, `INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		VALUES ($1, 'CHILD', $2, $3, $4)`, stolen, other.ID, other.AreaID, thief.ID); err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res *db.LinkResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := store.LinkChildren(ctx, db.ActorOf(scanner), parentQR, []string{stolen, "FREE1" + parentQR, "FREE2" + parentQR})
		done <- outcome{res, err}
	}()
	waitForLockWait(t, store)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	return got.res
}

// newDispatcher creates a dispatcher of the area with the code.
func newDispatcher(t *testing.T, store *db.Store, name, areaCode string) *db.User {
	t.Helper()
	var areaID int64
	if err := store.DB().QueryRow(`SELECT id FROM areas WHERE code = $1`, areaCode).Scan(&areaID); err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUser(context.Background(), db.System, db.NewUser{Username: name, PasswordHash: "x", Role: db.RoleDispatcher, AreaID: &areaID})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitForLockWait returns once a session waits on a lock (the batch blocked behind the thief).
func waitForLockWait(t *testing.T, store *db.Store) {
	t.Helper()
	for range 500 {
		var waiting int
		if err := store.DB().QueryRow(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the batch never waited for the concurrent insert")
}

// A child batch answers with its parent as stored once the batch's statement and its triggers
// are done (the statement predicts the trigger's update of the parent instead of reading the
// parent again): after each batch, the parent of the answer is the row read afresh, through
// every status (PENDING to IN_PROGRESS, IN_PROGRESS kept, to COMPLETED with a code left over),
// a retried batch that links nothing, and a parent on a bill (whose totals move too).
func TestBatchParentIsTheStoredParent(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	scanner := db.ActorOf(newDispatcher(t, store, "status_scanner", "jaipur"))
	if _, err := store.ScanParent(ctx, scanner, "SB00101", 3); err != nil {
		t.Fatal(err)
	}
	billed, err := store.ScanParent(ctx, scanner, "SB00102", 30)
	if err != nil {
		t.Fatal(err)
	}
	bill, err := store.CreateBill(ctx, db.System, db.NewBill{BillNumber: "PREDICT-1", Capacity: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.LinkBagsToBill(ctx, db.System, bill.ID, []string{"SB00102"}); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []struct {
		parent   string
		children []string
		status   db.BagStatus
		count    int
	}{
		{"SB00101", []string{"PRED0001"}, db.BagStatusInProgress, 1},
		{"SB00101", []string{"PRED0002"}, db.BagStatusInProgress, 2},
		{"SB00101", []string{"PRED0003", "PRED0004"}, db.BagStatusCompleted, 3},
		{"SB00101", []string{"PRED0003", "PRED0004"}, db.BagStatusCompleted, 3},
		{"SB00102", []string{"PRED0005", "PRED0006"}, db.BagStatusInProgress, 2},
	} {
		got, err := store.LinkChildren(ctx, scanner, batch.parent, batch.children)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := store.BagByID(ctx, scanner, got.Parent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Parent, stored) {
			t.Errorf("%s after %v: answered %+v, stored %+v", batch.parent, batch.children, got.Parent, stored)
		}
		if stored.Status != batch.status || stored.ChildCount != batch.count {
			t.Errorf("%s after %v: %s with %d children, want %s with %d", batch.parent, batch.children, stored.Status, stored.ChildCount, batch.status, batch.count)
		}
	}
	var children int
	if err := store.DB().QueryRow(`SELECT child_bag_count FROM bills WHERE id = $1`, bill.ID).Scan(&children); err != nil || children != 2 {
		t.Errorf("the bill of %s counts %d children (%v), want 2", billed.QR, children, err)
	}
}

// tt_bag_status, which a child batch uses to predict its parent's status, is the generated
// column's expression as the catalog holds it: a migration that changes bags.status without
// recreating the function fails here.
func TestBagStatusFunctionIsTheColumnsRule(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	var body, column string
	err := store.DB().QueryRow(`
		SELECT p.prosrc, 'SELECT ' || pg_get_expr(d.adbin, d.adrelid)
		FROM pg_proc p, pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		WHERE p.proname = 'tt_bag_status' AND d.adrelid = 'bags'::regclass AND a.attname = 'status'`).Scan(&body, &column)
	if err != nil {
		t.Fatal(err)
	}
	if body != column {
		t.Errorf("tt_bag_status is\n%s\nbut bags.status is\n%s", body, column)
	}
}
