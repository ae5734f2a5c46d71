package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
)

// A chunk of child rows with every refusal a child row can get from the database, judged
// against what the database holds: each reason word for word (the report is what people
// read to fix their files), and the job's counters exact (rows already there counted once).
func TestImportChunkJudgesChildren(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	// SB00010 holds 7777777; SB00011 is on a completed bill; SB00012 has room for one more
	// child; SB00013 is of another area; 8888888 is a child bag, named below as a parent.
	for _, qr := range []string{"SB00010", "SB00011", "SB00014"} {
		if _, err := store.ScanParent(ctx, db.System, qr, 30); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.ScanParent(ctx, db.System, "SB00012", 2); err != nil {
		t.Fatal(err)
	}
	indore := "indore"
	indoreID, err := store.AreaIDOfCode(ctx, &indore)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.ScanParent(ctx, db.Actor{Role: db.RoleDispatcher, AreaID: indoreID}, "SB00013", 30); err != nil {
		t.Fatal(err)
	}
	link := map[string][]string{"SB00010": {"7777777", "8888888"}, "SB00011": {"1111111"}, "SB00012": {"2222222"}}
	for parent, children := range link {
		if _, err := store.LinkChildren(ctx, db.System, parent, children); err != nil {
			t.Fatal(err)
		}
	}
	bill, err := store.CreateBill(ctx, db.System, db.NewBill{BillNumber: "DONE-1", Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.LinkBagsToBill(ctx, db.System, bill.ID, []string{"SB00011"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CompleteBill(ctx, db.System, bill.ID); err != nil {
		t.Fatal(err)
	}
	lucknow := "lucknow"
	lucknowID, err := store.AreaIDOfCode(ctx, &lucknow)
	if err != nil {
		t.Fatal(err)
	}
	// SB00010 and SB00012 are of no area: an import into lucknow refuses them too, so the
	// area is given only where a row asks for it (below, a second chunk).
	rowNo := int64(0)
	row := func(kind db.ImportRowKind, parent, child string) db.ImportRow {
		rowNo++
		return db.ImportRow{SheetNo: 1, Sheet: "S", RowNo: rowNo, Input: fmt.Sprintf("%s %s", parent, child), Kind: kind,
			Parent: parent, Child: child}
	}
	rows := []db.ImportRow{
		row(db.ImportChild, "SB00010", "7777777"), // 1: there already
		row(db.ImportChild, "SB00010", "SB00014"), // 2: a parent as a child
		row(db.ImportChild, "SB00010", "1111111"), // 3: in another parent
		row(db.ImportChild, "SB00010", "3000001"), // 4: created
		row(db.ImportChild, "SB00010", "3000001"), // 5: repeated, same parent: there
		row(db.ImportChild, "SB00014", "3000001"), // 6: repeated, other parent
		row(db.ImportParent, "SB00010", ""),       // 7: parent there
		row(db.ImportChild, "SB00011", "3000002"), // 8: parent on a completed bill
		row(db.ImportChild, "SB00012", "3000003"), // 9: created (the last place)
		row(db.ImportChild, "SB00012", "3000004"), // 10: full
		row(db.ImportChild, "SB00012", "3000004"), // 11: repeated, first refused
		row(db.ImportChild, "8888888", "3000005"), // 12: a child as parent
		row(db.ImportParent, "8888888", ""),       // 13: a child as parent
		row(db.ImportChild, "SB00020", "3000006"), // 14: created, in a new parent
		row(db.ImportParent, "SB00020", ""),       // 15: parent created
	}
	rows = append(rows, db.ImportRow{SheetNo: 1, Sheet: "S", RowNo: 16, Input: "bad", Kind: db.ImportChild, Refusal: "as read"})
	job := importRows(t, store, nil, rows)
	want := map[int64]string{
		2:  "SB00014 is a parent bag; a child cannot be a parent",
		3:  "child 1111111 is already in parent SB00011; unlink it there first",
		6:  "child 3000001 is already in parent SB00010 (row 4)",
		8:  "parent SB00011 is on bill DONE-1, which is completed: its children cannot change; reopen the bill first",
		10: "parent SB00012 is full: it holds at most 2 children",
		11: "child 3000004 did not go into parent SB00012: an earlier row naming it was refused",
		12: "8888888 is a child bag (in parent SB00010), not a parent",
		13: "8888888 is a child bag (in parent SB00010), not a parent",
		16: "as read",
	}
	checkRefusals(t, store, job, want)
	if job.ChildrenCreated != 3 || job.ParentsCreated != 1 || job.RowsRead != 16 || job.RowsRefused != int64(len(want)) ||
		job.RowsAlreadyThere != 3 {
		t.Errorf("job %+v: want 3 children and 1 parent created, 16 rows read, %d refused, 3 there", job, len(want))
	}

	// the same rules in a chunk that names no child twice (judged without the repeats' sorts)
	rowNo = 0
	job = importRows(t, store, nil, []db.ImportRow{
		row(db.ImportChild, "SB00010", "SB00014"), row(db.ImportChild, "SB00010", "1111111"),
		row(db.ImportChild, "SB00011", "3000012"), row(db.ImportChild, "SB00012", "3000013"),
		row(db.ImportChild, "SB00010", "7777777"), row(db.ImportChild, "SB00010", "3000014")})
	checkRefusals(t, store, job, map[int64]string{1: want[2], 2: want[3], 3: want[8],
		4: "parent SB00012 is full: it holds at most 2 children"})
	if job.ChildrenCreated != 1 || job.RowsAlreadyThere != 1 {
		t.Errorf("job %+v: want 1 child created, 1 there", job)
	}

	// into lucknow: the parent of indore is refused, its children with it
	rowNo = 0
	job = importRows(t, store, lucknowID, []db.ImportRow{
		row(db.ImportChild, "SB00013", "4000001"), row(db.ImportParent, "SB00013", ""), row(db.ImportChild, "SB00021", "4000002"),
		row(db.ImportParent, "SB00021", "")})
	area := "parent SB00013 is in dispatch area indore, not in lucknow; import it with that area or none"
	checkRefusals(t, store, job, map[int64]string{1: area, 2: area})
	if job.ChildrenCreated != 1 || job.ParentsCreated != 1 || job.RowsAlreadyThere != 0 {
		t.Errorf("job %+v: want 1 child and 1 parent created", job)
	}
	issues, err := store.Integrity(ctx)
	if err != nil || len(issues) > 0 {
		t.Fatalf("integrity after import: %+v, %v", issues, err)
	}
}

// importRows imports the rows as one chunk of a job and returns the finished job.
func importRows(t *testing.T, store *db.Store, areaID *int64, rows []db.ImportRow) *db.ImportJob {
	t.Helper()
	ctx := context.Background()
	started, err := store.StartImportJob(ctx, db.System, db.NewImportJob{FileName: "rows", SHA256: make([]byte, 32),
		Format: db.ImportBagsCSV, AreaID: areaID})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ImportChunk(ctx, db.System, started.ID, db.ImportSettings{ChildrenPerParent: 30}, areaID, rows, db.LockTurn{}); err != nil {
		t.Fatal(err)
	}
	job, err := store.FinishImportJob(ctx, db.System, started.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// checkRefusals compares the job's report with the reasons wanted by row.
func checkRefusals(t *testing.T, store *db.Store, job *db.ImportJob, want map[int64]string) {
	t.Helper()
	got := map[int64]string{}
	err := store.ImportRefusals(context.Background(), job.ID, func(r *db.ImportRefusal) error {
		got[r.RowNo] = r.Reason
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for row, reason := range want {
		if got[row] != reason {
			t.Errorf("row %d: reason %q, want %q", row, got[row], reason)
		}
	}
	for row, reason := range got {
		if _, ok := want[row]; !ok {
			t.Errorf("row %d refused (%q), want it not refused", row, reason)
		}
	}
}

// A child a concurrent scan links while the chunk is judged (committed after the judging,
// before the chunk's insert) is refused as taken meanwhile; the rest of the chunk goes in, and a
// repeat of the taken child's row is refused with it.
func TestImportChunkLosesChildToConcurrentScan(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	if _, err := store.ScanParent(ctx, db.System, "SB00030", 30); err != nil {
		t.Fatal(err)
	}
	// the scan's insert holds 5000001 uncommitted: the chunk does not see it when judging,
	// and its insert waits for the scan's transaction and then leaves the code to it
	scan, err := store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer scan.Rollback()
	if _, err := scan.ExecContext(ctx, `INSERT INTO bags (qr, type, parent_id)
		SELECT '5000001', 'CHILD', id FROM bags WHERE qr = 'SB00030'`); err != nil {
		t.Fatal(err)
	}
	rows := []db.ImportRow{
		{SheetNo: 1, RowNo: 1, Input: "a", Kind: db.ImportChild, Parent: "SB00031", Child: "5000001"},
		{SheetNo: 1, RowNo: 2, Input: "b", Kind: db.ImportChild, Parent: "SB00031", Child: "5000002"},
		{SheetNo: 1, RowNo: 3, Input: "c", Kind: db.ImportChild, Parent: "SB00031", Child: "5000001"},
		{SheetNo: 1, RowNo: 4, Input: "d", Kind: db.ImportParent, Parent: "SB00031"},
	}
	started, err := store.StartImportJob(ctx, db.System, db.NewImportJob{FileName: "rows", SHA256: make([]byte, 32),
		Format: db.ImportBagsCSV})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- store.ImportChunk(ctx, db.System, started.ID, db.ImportSettings{ChildrenPerParent: 30}, nil, rows, db.LockTurn{})
	}()
	for waiting := false; !waiting; {
		err := store.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO bags%')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("the chunk finished (%v) without waiting for the scan", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := scan.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	job, err := store.FinishImportJob(ctx, db.System, started.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, store, job, map[int64]string{
		1: "child 5000001 was scanned into a bag while the import ran; import the file again to see where",
		3: "child 5000001 did not go into parent SB00031: an earlier row naming it was refused",
	})
	if job.ChildrenCreated != 1 || job.ParentsCreated != 1 || job.RowsAlreadyThere != 0 || job.RowsRefused != 2 {
		t.Errorf("job %+v: want 1 child and 1 parent created, 2 refused, none there", job)
	}
}

// A job the database failed is FAILED with a message saying what to do, never the database's
// own words (the failure here: a row holding a NUL, which only the importer keeps out).
func TestFailedImportJobSaysNoDatabaseDetail(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	ctx := context.Background()
	started, err := store.StartImportJob(ctx, db.System, db.NewImportJob{FileName: "rows", SHA256: make([]byte, 32),
		Format: db.ImportBagsCSV})
	if err != nil {
		t.Fatal(err)
	}
	failure := store.ImportChunk(ctx, db.System, started.ID, db.ImportSettings{ChildrenPerParent: 30}, nil,
		[]db.ImportRow{{SheetNo: 1, RowNo: 2, Input: "SB00010\x00", Kind: db.ImportParent, Parent: "SB00010"}}, db.LockTurn{})
	if failure == nil {
		t.Fatal("a row holding a NUL was staged")
	}
	job, err := store.FinishImportJob(ctx, db.System, started.ID, failure)
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != db.ImportFailed || job.Error == nil || strings.Contains(*job.Error, "pq") ||
		strings.Contains(*job.Error, "store:") || !strings.Contains(*job.Error, "import the same file again") {
		t.Errorf("job %s: %v", job.Status, job.Error)
	}
}
