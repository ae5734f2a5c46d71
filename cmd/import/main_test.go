package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/sheettest"
	"tracetrack/internal/testdb"
)

// cli runs the command as a shell would and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func openStore(t *testing.T, url string) *db.Store {
	t.Helper()
	store, err := db.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func children(n int, from int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprint(i + 1), fmt.Sprintf("LABEL NO.%07d", from+i)}
	}
	return rows
}

func concat(parts ...[][]string) [][]string {
	var all [][]string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// TestChildParentWorkbook imports a workbook with a row of every kind, good and bad, checks
// each outcome and the report, then imports it again: nothing changes and the summary says so.
// The outcome is the same whatever the chunks: a small chunk size puts the rows a refusal
// depends on into earlier transactions.
func TestChildParentWorkbook(t *testing.T) {
	for _, chunk := range []string{"20000", "4"} {
		t.Run("chunk="+chunk, func(t *testing.T) { testChildParentWorkbook(t, chunk) })
	}
}

func testChildParentWorkbook(t *testing.T, chunk string) {
	url := testdb.New(t)
	store := openStore(t, url)
	ctx := context.Background()
	// an existing parent of another area, and a child already in another parent
	indore := "indore"
	indoreID, err := store.AreaIDOfCode(ctx, &indore)
	if err != nil {
		t.Fatal(err)
	}
	dispatcher := db.Actor{Role: db.RoleDispatcher, AreaID: indoreID}
	if _, err := store.ScanParent(ctx, dispatcher, "SB09999", 30); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LinkChildren(ctx, db.System, "SB09998", nil); err == nil {
		t.Fatal("an unknown parent took children")
	}
	if _, err := store.ScanParent(ctx, db.System, "SB09997", 30); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LinkChildren(ctx, db.System, "SB09997", []string{"7777777"}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	first := concat(
		[][]string{{"S.No", "QR Code"}},        // row 1: header
		children(3, 100),                       // rows 2-4
		[][]string{nil},                        // row 5: blank
		[][]string{{"4", "LABEL NO.12"}},       // row 6: child QR invalid (too short)
		[][]string{{"5", "LABEL NO.7777777"}},  // row 7: child in another parent
		[][]string{{"Parent Code", "SB00001"}}, // row 8: closes rows 2-4 and 7
		children(31, 200),                      // rows 9-39: one over capacity
		[][]string{{"Parent Code", "SB00002"}}, // row 40
		children(1, 400),                       // row 41
		[][]string{{"Parent Code", "SB0000X"}}, // row 42: parent QR invalid
		children(1, 500),                       // row 43
		[][]string{{"", "SB09999"}},            // row 44: a parent by its series, of another area
		children(2, 600),                       // rows 45-46: open at the end
	)
	second := concat(children(2, 700), [][]string{{"Parent Code", "SB00001"}}) // an existing parent reused
	path := sheettest.Workbook(t, dir, "children.xlsx",
		sheettest.Sheet{Name: "Day 1", Rows: first}, sheettest.Sheet{Name: "Day 2", Rows: second})

	code, out, _ := cli(t, "-database-url", url, "-area", "lucknow", "-chunk-rows", chunk, path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"CHILD_PARENT_WORKBOOK", "2 parents, 35 children", "rows refused", "report: " + path + ".report.csv"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q: %s", want, out)
		}
	}
	job := lastJob(t, store)
	if job.ChildrenCreated != 3+30+2 || job.ParentsCreated != 2 || job.RowsRead != 47 {
		t.Errorf("created %d children, %d parents of %d rows; want 35, 2 of 47", job.ChildrenCreated, job.ParentsCreated, job.RowsRead)
	}
	wantRefused := map[string]string{
		"Day 1/6":  "child QR",
		"Day 1/7":  "already in parent SB09997",
		"Day 1/39": "is full",
		"Day 1/41": "no valid parent QR",
		"Day 1/42": "invalid",
		"Day 1/43": "dispatch area indore",
		"Day 1/44": "dispatch area indore",
		"Day 1/45": "before the end of sheet Day 1",
		"Day 1/46": "before the end of sheet Day 1",
	}
	report := readReport(t, path+".report.csv")
	if len(report) != len(wantRefused) || job.RowsRefused != int64(len(wantRefused)) {
		t.Errorf("report has %d rows, job %d refused; want %d: %v", len(report), job.RowsRefused, len(wantRefused), report)
	}
	for where, reason := range wantRefused {
		if !strings.Contains(report[where], reason) {
			t.Errorf("row %s: reason %q, want it to mention %q", where, report[where], reason)
		}
	}
	parent, err := store.BagByQR(ctx, db.System, "SB00001")
	if err != nil || parent.ChildCount != 5 || parent.AreaID == nil {
		t.Fatalf("SB00001: %+v, %v", parent, err)
	}
	child, err := store.BagByQR(ctx, db.System, "0000100")
	if err != nil || child.ParentID == nil || *child.ParentID != parent.ID || *child.AreaID != *parent.AreaID {
		t.Fatalf("child 0000100: %+v, %v", child, err)
	}
	checkIntegrity(t, store)

	code, out, _ = cli(t, "-database-url", url, "-area", "lucknow", "-chunk-rows", chunk, path)
	if code != 0 || !strings.Contains(out, "already imported: nothing changed") ||
		!strings.Contains(out, fmt.Sprintf("imported before by job %d", job.ID)) || !strings.Contains(out, "0 bags created") {
		t.Fatalf("second import: exit %d: %s", code, out)
	}
	again := lastJob(t, store)
	if again.RowsRefused != job.RowsRefused || again.RowsAlreadyThere != job.RowsRead-job.RowsRefused {
		t.Errorf("second import refused %d (first %d), %d already there of %d", again.RowsRefused, job.RowsRefused,
			again.RowsAlreadyThere, again.RowsRead)
	}
	checkIntegrity(t, store)
}

// TestExitStatus: a file that cannot be read is a non-zero exit and says why; the other
// files are still imported.
func TestExitStatus(t *testing.T) {
	url := testdb.New(t)
	dir := t.TempDir()
	unknown := sheettest.File(t, dir, "notes.csv", "name,age\nx,1\n")
	empty := sheettest.File(t, dir, "empty.csv", "")
	good := sheettest.CSV(t, dir, "bags.csv", []string{"qr_id", "type", "parent_qr_id"}, []string{"SB00010", "PARENT", ""})
	code, out, _ := cli(t, "-database-url", url, unknown, empty, good)
	if code != 1 {
		t.Errorf("exit %d, want 1: %s", code, out)
	}
	for _, want := range []string{unknown + ": not imported", "is not one of the old system's exports", empty + ": not imported",
		good + ": job", "1 bags created"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %s", want, out)
		}
	}
	if code, _, _ := cli(t, "-database-url", url, "-area", "atlantis", good); code == 0 {
		t.Error("an unknown area was accepted")
	}
	if code, _, _ := cli(t, "-database-url", url); code == 0 {
		t.Error("no files was accepted")
	}
	if code, out, _ := cli(t, "-database-url", url, good); code != 0 || !strings.Contains(out, "already imported") {
		t.Errorf("the same CSV again: exit %d: %s", code, out)
	}
}

// TestBillsAndParentBillWorkbook: bills from the bills CSV (with bad numbers and
// duplicates), then parents onto them from a parent-to-bill workbook (unknown bill, full
// bill, parent on another bill, open parents).
func TestBillsAndParentBillWorkbook(t *testing.T) {
	for _, chunk := range []string{"20000", "1"} {
		t.Run("chunk="+chunk, func(t *testing.T) { testBillsAndParentBillWorkbook(t, chunk) })
	}
}

func testBillsAndParentBillWorkbook(t *testing.T, chunk string) {
	url := testdb.New(t)
	store := openStore(t, url)
	dir := t.TempDir()
	bills := sheettest.CSV(t, dir, "bills.csv",
		[]string{"bill_id", "description", "parent_bag_count", "expected_weight_kg"},
		[]string{"b-100", "Mustard to Jaipur", "2", "60"}, // line 2
		[]string{"B-200", "", "5", ""},                    // line 3
		[]string{"B-300", "x", "many", "30"},              // line 4: not a number
		[]string{"B-301", "x", "0", "30"},                 // line 5: out of range
		[]string{"B-302", "x", "3", "-5"},                 // line 6: negative weight
		[]string{"B", "x", "3", "90"},                     // line 7: number too short
		[]string{"B-100", "Mustard to Jaipur", "2", "60"}, // line 8: the same again: there already
		[]string{"B-100", "other", "2", "60"},             // line 9: duplicate with other details
		[]string{"B-400", "x"},                            // line 10: wrong width
	)
	code, out, _ := cli(t, "-database-url", url, "-chunk-rows", chunk, bills)
	if code != 0 || !strings.Contains(out, "BILLS_CSV") || !strings.Contains(out, "2 bills created") {
		t.Fatalf("bills: exit %d: %s", code, out)
	}
	report := readReport(t, bills+".report.csv")
	for where, reason := range map[string]string{"/4": "not a whole number", "/5": "parent_bag_count", "/6": "not a weight",
		"/7": "a bill number has", "/9": "with capacity 2 and description 'Mustard to Jaipur'", "/10": "columns"} {
		if !strings.Contains(report[where], reason) {
			t.Errorf("line %s: %q, want %q", where, report[where], reason)
		}
	}
	if len(report) != 6 {
		t.Errorf("report: %v", report)
	}
	bill, err := store.BillByNumber(context.Background(), "B-100")
	if err != nil || bill.Capacity != 2 || bill.Description == nil || *bill.Description != "Mustard to Jaipur" {
		t.Fatalf("B-100: %+v, %v", bill, err)
	}

	workbook := sheettest.Workbook(t, dir, "parents.xlsx", sheettest.Sheet{Name: "Bills", Rows: [][]string{
		{"1", "SB00101"}, {"2", "SB00102"}, {"3", "SB00103"}, // rows 1-3: SB00103 over B-100's capacity of 2
		{"Bill No.", "B-100"},     // row 4
		{"1", "SB00104"},          // row 5
		{"Bill No.: B-999"},       // row 6: unknown bill
		{"1", "SB00101"},          // row 7: on B-100 already
		{"2", "LABEL NO.0012345"}, // row 8: not a parent QR
		{"Bill No.", "B-200"},     // row 9
		{"1", "SB00105"},          // row 10: open at the end
	}})
	code, out, _ = cli(t, "-database-url", url, "-chunk-rows", chunk, workbook)
	if code != 0 || !strings.Contains(out, "PARENT_BILL_WORKBOOK") || !strings.Contains(out, "2 parents on bills") {
		t.Fatalf("parents: exit %d: %s", code, out)
	}
	report = readReport(t, workbook+".report.csv")
	for where, reason := range map[string]string{"Bills/3": "is full", "Bills/5": "B-999 does not exist",
		"Bills/7": "bill B-100", "Bills/8": "parent QR", "Bills/10": "Bill No."} {
		if !strings.Contains(report[where], reason) {
			t.Errorf("row %s: %q, want %q", where, report[where], reason)
		}
	}
	bill, _ = store.BillByNumber(context.Background(), "B-100")
	if bill.ParentBagCount != 2 {
		t.Errorf("B-100 holds %d parents", bill.ParentBagCount)
	}
	checkIntegrity(t, store)
}

// TestBagsCSV: parents and children by the bags CSV, the parent of a child created when it
// is not in the file, every kind of bad row refused.
func TestBagsCSV(t *testing.T) {
	url := testdb.New(t)
	store := openStore(t, url)
	dir := t.TempDir()
	path := sheettest.CSV(t, dir, "bags.csv",
		[]string{"qr_id", "type", "parent_qr_id"},
		[]string{"sb00001", "parent", ""},       // 2
		[]string{"0016586", "CHILD", "SB00001"}, // 3
		[]string{"0016587", "CHILD", "SB00002"}, // 4: parent not in the file: created
		[]string{"SB00003", "CHILD", "SB00001"}, // 5: a parent QR as a child
		[]string{"0016588", "CHILD", "nope"},    // 6: parent QR invalid
		[]string{"0016586", "CHILD", "SB00002"}, // 7: in another parent (row 3)
		[]string{"0016589", "BOX", ""},          // 8: unknown type
		[]string{"", "", ""},                    // 9: blank
		[]string{"SB0000", "PARENT", ""},        // 10: parent QR invalid
		[]string{"0016586", "CHILD", "SB00001"}, // 11: the same again: there already
	)
	code, out, _ := cli(t, "-database-url", url, path)
	if code != 0 || !strings.Contains(out, "BAGS_CSV") || !strings.Contains(out, "2 parents, 2 children") ||
		!strings.Contains(out, "1 rows already there") {
		t.Fatalf("exit %d: %s", code, out)
	}
	report := readReport(t, path+".report.csv")
	for where, reason := range map[string]string{"/5": "child QR", "/6": "parent QR", "/7": "already in parent SB00001 (row 3)",
		"/8": "neither PARENT nor CHILD", "/10": "parent QR"} {
		if !strings.Contains(report[where], reason) {
			t.Errorf("line %s: %q, want %q", where, report[where], reason)
		}
	}
	if len(report) != 5 {
		t.Errorf("report: %v", report)
	}
	checkIntegrity(t, store)
}

func lastJob(t *testing.T, store *db.Store) *db.ImportJob {
	t.Helper()
	jobs, _, err := store.ImportJobs(context.Background(), db.Page{Limit: 1})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs: %v, %v", jobs, err)
	}
	return jobs[0]
}

// readReport reads a report CSV into reasons by "sheet/row".
func readReport(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "sheet,row,input,reason" {
		t.Fatalf("header %v", records[0])
	}
	reasons := map[string]string{}
	for _, r := range records[1:] {
		reasons[r[0]+"/"+r[1]] = r[3]
	}
	return reasons
}

func checkIntegrity(t *testing.T, store *db.Store) {
	t.Helper()
	issues, err := store.Integrity(context.Background())
	if err != nil || len(issues) > 0 {
		t.Fatalf("integrity: %+v, %v", issues, err)
	}
}
