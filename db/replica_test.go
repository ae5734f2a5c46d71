package db_test

import (
	"context"
	"database/sql"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/testdb"
)

// With a read URL (DATABASE_READ_URL), lists and counts are read from the replica while
// writes, and the reads a write depends on, go to the primary. Two separate databases stand
// for the pair here, so each read shows where it was answered.
func TestReplicaServesListsPrimaryTakesWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	primaryURL, replicaURL := testdb.New(t), testdb.New(t)
	store, err := db.Open(ctx, primaryURL, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.UseReplica(ctx, replicaURL, 5); err != nil {
		t.Fatal(err)
	}
	replica, err := sql.Open("postgres", replicaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	if _, err := replica.Exec(`INSERT INTO bags (qr, type, area_id) VALUES ('SB00009', 'PARENT', 1)`); err != nil {
		t.Fatal(err)
	}

	admin := newAdmin(t, store, "writer")
	if _, err := store.ScanParent(ctx, db.ActorOf(admin), "SB00001", 30); err != nil {
		t.Fatal(err)
	}
	if bag, err := store.BagByQR(ctx, db.ActorOf(admin), "SB00001"); err != nil || bag == nil {
		t.Fatalf("the primary's own write: %v, %v", bag, err)
	}

	bags, _, err := store.Bags(ctx, db.ActorOf(admin), db.BagFilter{}, db.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(bags) != 1 || bags[0].QR != "SB00009" {
		t.Errorf("bag list %v: want the replica's SB00009 only", bags)
	}
	if n, err := store.CountBags(ctx, db.ActorOf(admin), db.BagFilter{}); err != nil || n != 1 {
		t.Errorf("bag count %d, %v: want the replica's 1", n, err)
	}
	var onReplica int
	if err := replica.QueryRow(`SELECT count(*) FROM bags WHERE qr = 'SB00001'`).Scan(&onReplica); err != nil || onReplica != 0 {
		t.Errorf("the scan reached the replica (%d rows, %v)", onReplica, err)
	}
}
