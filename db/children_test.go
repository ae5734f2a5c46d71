package db_test

import (
	"context"
	"testing"
	"time"

	"tracetrack/db"
)

// A child a concurrent scan takes first frees its place: the codes that did not fit at first
// go in instead of being refused as PARENT_FULL.
func TestStolenChildLeavesRoomForTheRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	admin := newAdmin(t, store, "scanner")
	if _, err := store.ScanParent(ctx, db.ActorOf(admin), "SB00001", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LinkChildren(ctx, db.ActorOf(admin), "SB00001", []string{"FIRST1"}); err != nil {
		t.Fatal(err)
	}
	other, err := store.ScanParent(ctx, db.ActorOf(admin), "SB00002", 30)
	if err != nil {
		t.Fatal(err)
	}
	thief, err := store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Rollback()
	if _, err := thief.ExecContext(ctx, `INSERT INTO bags (qr, type, parent_id, area_id, created_by)
		VALUES ('STOLEN1', 'CHILD', $1, $2, $3)`, other.ID, other.AreaID, admin.ID); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		res *db.LinkResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := store.LinkChildren(ctx, db.ActorOf(admin), "SB00001", []string{"STOLEN1", "FREE1", "FREE2"})
		done <- outcome{res, err}
	}()
	waitForLockWait(t, store)
	if err := thief.Commit(); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	var linked []string
	for _, b := range got.res.Linked {
		linked = append(linked, b.QR)
	}
	if len(linked) != 2 || linked[0] != "FREE1" || linked[1] != "FREE2" {
		t.Errorf("linked %v, want [FREE1 FREE2]", linked)
	}
	if len(got.res.Rejected) != 1 || got.res.Rejected[0].QR != "STOLEN1" || got.res.Rejected[0].Code != db.RejectLinkedToOther {
		t.Errorf("rejected %+v, want only STOLEN1 as %s", got.res.Rejected, db.RejectLinkedToOther)
	}
	if got.res.Parent.ChildCount != 3 {
		t.Errorf("parent holds %d children, want 3", got.res.Parent.ChildCount)
	}
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
