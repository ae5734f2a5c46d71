package importer

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tracetrack/db"
	"tracetrack/internal/sheettest"
	"tracetrack/qr"
)

// defaultRules are the rules of a database with only the default series.
var defaultRules = qr.NewRules(qr.DefaultSeries)

func TestSplitRow(t *testing.T) {
	cases := []struct {
		cells               []string
		label, code         string
		blank, header, bill bool
		billNumber          string
	}{
		{cells: nil, blank: true},
		{cells: []string{" ", "", "\t"}, blank: true},
		{cells: []string{"1", "LABEL NO.0016586"}, label: "1", code: "LABEL NO.0016586"},
		{cells: []string{"LABEL NO.0016586"}, code: "LABEL NO.0016586"},
		{cells: []string{"2", "", "0016586", ""}, label: "2", code: "0016586"},
		{cells: []string{"S.No", "QR Code"}, label: "S.No", code: "QR Code", header: true},
		{cells: []string{"Sr", "SB00001"}, label: "Sr", code: "SB00001"},
		{cells: []string{"parent code:", "SB00001"}, label: "parent code:", code: "SB00001"},
		{cells: []string{"Bill No.", "b-7"}, label: "Bill No.", code: "b-7", bill: true, billNumber: "B-7"},
		{cells: []string{"Bill No.: inv 9"}, label: "Bill No.: inv 9", bill: true, billNumber: "INV 9"},
		{cells: []string{"BILL NO"}, label: "BILL NO", bill: true, billNumber: ""},
	}
	for _, c := range cases {
		r, ok := splitRow(c.cells)
		if ok == c.blank {
			t.Errorf("%q: blank %v", c.cells, !ok)
			continue
		}
		if !ok {
			continue
		}
		if r.label != c.label || r.code != c.code || r.header(defaultRules) != c.header || isBillLabel(r.label) != c.bill {
			t.Errorf("%q: label %q code %q header %v bill %v", c.cells, r.label, r.code, r.header(defaultRules), isBillLabel(r.label))
		}
		if c.bill && r.billNumber() != c.billNumber {
			t.Errorf("%q: bill number %q, want %q", c.cells, r.billNumber(), c.billNumber)
		}
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	added := qr.NewRules(append([]qr.Series{{Prefix: "SB", Digits: 7}}, qr.DefaultSeries...))
	cases := []struct {
		path  string
		rules qr.Rules
		want  db.ImportFormat
	}{
		{sheettest.File(t, dir, "a.txt", "\ufeffQR_ID, Type ,parent_qr_id\r\nSB00001,PARENT,\r\n"), defaultRules, db.ImportBagsCSV},
		{sheettest.File(t, dir, "b.xlsx", "bill_id,description,parent_bag_count,expected_weight_kg\n"), defaultRules, db.ImportBillsCSV},
		{renamed(t, sheettest.Workbook(t, dir, "c.xlsx", sheettest.Sheet{Name: "S", Rows: [][]string{{"S.No", "QR"}, {"1", "0016586"}}}), "c.csv"), defaultRules, db.ImportChildParentWorkbook},
		{sheettest.Workbook(t, dir, "d.xlsx", sheettest.Sheet{Name: "S", Rows: [][]string{{"1", "SB00001"}, {"Bill No.", "B-1"}}}), defaultRules, db.ImportParentBillWorkbook},
		{sheettest.Workbook(t, dir, "e.xlsx", sheettest.Sheet{Name: "Empty"}, sheettest.Sheet{Name: "S", Rows: [][]string{{"1", "SB00001"}}}), defaultRules, db.ImportParentBillWorkbook},
		{sheettest.File(t, dir, "f.csv", "qr_id,type\n"), defaultRules, ""},
		{sheettest.File(t, dir, "g.xlsx", "PK\x03\x04 not really a zip"), defaultRules, ""},
		{sheettest.Workbook(t, dir, "h.xlsx", sheettest.Sheet{Name: "S", Rows: [][]string{{"name", "age"}}}), defaultRules, ""},
		// parents of a series the store added are parents only under its rules (under the
		// defaults they read as child labels)
		{sheettest.Workbook(t, dir, "i.xlsx", sheettest.Sheet{Name: "S", Rows: [][]string{{"1", "SB0000001"}}}), added, db.ImportParentBillWorkbook},
		{sheettest.Workbook(t, dir, "j.xlsx", sheettest.Sheet{Name: "S", Rows: [][]string{{"1", "SB0000001"}}}), defaultRules, db.ImportChildParentWorkbook},
	}
	for _, c := range cases {
		got, err := Detect(c.path, c.rules)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("%s: %q, %v; want %q", c.path, got, err, c.want)
		}
	}
}

// renamed gives the file another name in its folder: the format comes from the content.
func renamed(t *testing.T, path, name string) string {
	t.Helper()
	to := filepath.Join(filepath.Dir(path), name)
	if err := os.Rename(path, to); err != nil {
		t.Fatal(err)
	}
	return to
}

func TestCountRowTags(t *testing.T) {
	xml := `<sheetData><row r="1"><c/></row><row>` + strings.Repeat("x", 70000) + `<row r="3"/><rowBreaks/></sheetData>`
	// read in small pieces, so tags fall across the reads' boundaries
	for _, size := range []int{1, 3, 5, 4096} {
		n, err := countRowTags(&chunked{data: []byte(xml), size: size})
		if err != nil || n != 3 {
			t.Errorf("reads of %d: %d rows, %v", size, n, err)
		}
	}
	path := sheettest.Workbook(t, t.TempDir(), "w.xlsx", sheettest.Sheet{Name: "A", Rows: [][]string{{"1", "x"}, nil, {"3", "y"}}},
		sheettest.Sheet{Name: "B", Rows: [][]string{{"1", "z"}}})
	book, err := openWorkbook(path)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if got := workbookRows(book, path); got == nil || *got != 3 {
		t.Errorf("workbook rows: %v", got)
	}
}

// chunked reads data size bytes at a time.
type chunked struct {
	data []byte
	size int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// Chunks end between parents or bills: a parent's row and its children's rows are one group,
// so are a bill's row and the rows of the parents put on it.
func TestSameGroup(t *testing.T) {
	parent := db.ImportRow{Kind: db.ImportParent, Parent: "SB00001"}
	child := db.ImportRow{Kind: db.ImportChild, Parent: "SB00001", Child: "1234"}
	other := db.ImportRow{Kind: db.ImportChild, Parent: "SB00002", Child: "1235"}
	billed := db.ImportRow{Kind: db.ImportParent, Parent: "SB00003", Bill: "B-1"}
	billedToo := db.ImportRow{Kind: db.ImportParent, Parent: "SB00004", Bill: "B-1"}
	bill := db.ImportRow{Kind: db.ImportBill, Bill: "B-1"}
	for _, c := range []struct {
		a, b db.ImportRow
		same bool
	}{
		{parent, child, true}, {child, child, true}, {child, other, false}, {billed, billedToo, true},
		{billed, bill, true}, {parent, billed, false}, {billedToo, db.ImportRow{Kind: db.ImportParent, Parent: "SB00004"}, false},
	} {
		if got := sameGroup(c.a, c.b); got != c.same || sameGroup(c.b, c.a) != c.same {
			t.Errorf("sameGroup(%+v, %+v) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
