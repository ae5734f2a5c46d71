package export_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"tracetrack/db"
	"tracetrack/internal/apitest"
	"tracetrack/internal/gid"
)

// workbook reads every sheet of an .xlsx download, the header row of each sheet after the
// first dropped, so it reads as one table like the CSV.
func workbook(t *testing.T, body string) [][]string {
	t.Helper()
	book, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("not an .xlsx workbook: %v", err)
	}
	defer book.Close()
	var out [][]string
	for i, sheet := range book.GetSheetList() {
		rows, err := book.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			rows = rows[1:]
		}
		out = append(out, rows...)
	}
	return out
}

// padded makes every row as wide as the header (excelize drops empty trailing cells).
func padded(rows [][]string) [][]string {
	for i, r := range rows {
		for len(r) < len(rows[0]) {
			r = append(r, "")
		}
		rows[i] = r
	}
	return rows
}

// Every export comes as .xlsx holding exactly the rows of its CSV, with the same filters,
// scope and formula neutralisation.
func TestXLSXExportsMatchTheirCSV(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	adminRow, admin := env.NewUser(t, db.RoleAdmin, "")
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	seed(t, env,
		`INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 3 FROM generate_series(1, 2100) i`,
		`INSERT INTO bags (qr, type, area_id) SELECT 'M444-' || lpad(i::text, 5, '0'), 'PARENT', 4 FROM generate_series(1, 3) i`,
		`INSERT INTO bills (bill_number, capacity, destination) VALUES ('X-1', 10, '=HYPERLINK("http://evil")'), ('X-2', 5, NULL)`,
		fmt.Sprintf(`INSERT INTO scans (kind, bag_qr, user_id, area_id)
			SELECT 'PARENT_SCANNED', qr, %d, area_id FROM bags ORDER BY id`, adminRow.ID))
	for _, tc := range []struct{ token, path string }{
		{admin, "/export/bills"}, {jaipur, "/export/bills?search=x-1"},
		{admin, "/export/bags"}, {jaipur, "/export/bags"}, {admin, "/export/bags?areaCode=hisar"},
		{admin, "/export/scans"}, {jaipur, "/export/scans"}, {admin, "/export/scans?areaCode=hisar&kinds=PARENT_SCANNED,CHILD_LINKED"},
	} {
		base, query, _ := strings.Cut(tc.path, "?")
		status, _, csvBody := get(t, env, tc.token, base+".csv?"+query)
		xstatus, contentType, xlsxBody := get(t, env, tc.token, base+".xlsx?"+query)
		if status != 200 || xstatus != 200 || contentType != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Fatalf("GET %s: csv %d, xlsx %d %s", tc.path, status, xstatus, contentType)
		}
		want, got := records(t, csvBody), padded(workbook(t, xlsxBody))
		if len(want) < 2 || !slices.EqualFunc(got, want, slices.Equal[[]string]) {
			t.Errorf("GET %s: the workbook's %d rows differ from the CSV's %d\n xlsx %v\n  csv %v", tc.path, len(got), len(want),
				got[:min(3, len(got))], want[:min(3, len(want))])
		}
	}
	_, _, body := get(t, env, admin, "/export/bills.xlsx")
	if rows := workbook(t, body); rows[2][7] != `'=HYPERLINK("http://evil")` {
		t.Errorf("the workbook's destination cell = %q, want it behind an apostrophe", rows[2][7])
	}
}

func TestScansExport(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	adminRow, admin := env.NewUser(t, db.RoleAdmin, "")
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	seed(t, env, fmt.Sprintf(`INSERT INTO scans (kind, at, bag_qr, user_id, area_id) VALUES
		('PARENT_SCANNED', '2025-03-01T10:00:00Z', 'SB00001', %[1]d, 3),
		('CHILD_LINKED', '2025-03-01T11:00:00Z', 'KID00001', %[1]d, 3),
		('PARENT_SCANNED', '2025-03-02T10:00:00Z', 'M444-00001', %[1]d, 4),
		('BILL_LINKED', '2025-03-03T10:00:00Z', 'SB00001', NULL, 3)`, adminRow.ID))
	for _, tc := range []struct {
		token, query string
		bags         []string // newest first
	}{
		{admin, "", []string{"SB00001", "M444-00001", "KID00001", "SB00001"}},
		{jaipur, "", []string{"SB00001", "KID00001", "SB00001"}},
		{admin, "kinds=PARENT_SCANNED", []string{"M444-00001", "SB00001"}},
		{admin, "areaCode=hisar", []string{"M444-00001"}},
		{admin, "after=2025-03-01T10:30:00Z&before=2025-03-03T00:00:00Z", []string{"M444-00001", "KID00001"}},
		{admin, "userId=" + globalUserID(adminRow.ID), []string{"M444-00001", "KID00001", "SB00001"}},
	} {
		status, _, body := get(t, env, tc.token, "/export/scans.csv?"+tc.query)
		rows := records(t, body)
		var bags []string
		for _, r := range rows[1:] {
			bags = append(bags, r[3])
		}
		if status != 200 || !slices.Equal(bags, tc.bags) {
			t.Errorf("scans.csv?%s: %d %v, want %v", tc.query, status, bags, tc.bags)
		}
	}
	_, _, body := get(t, env, admin, "/export/scans.csv?kinds=CHILD_LINKED")
	if rows := records(t, body); len(rows) != 2 || rows[1][1] != "CHILD_LINKED" || rows[1][2] != "2025-03-01T11:00:00Z" ||
		rows[1][4] != "jaipur" || rows[1][5] != adminRow.Username {
		t.Errorf("the child scan's row: %v", rows)
	}
	for _, tc := range []struct {
		token, path string
		status      int
	}{
		{"", "/export/scans.csv", 401},
		{"", "/export/scans.xlsx", 401},
		{jaipur, "/export/scans.csv?areaCode=hisar", 403},
		{jaipur, "/export/scans.xlsx?areaCode=hisar", 403},
		{admin, "/export/scans.csv?kinds=PARENT_SCANNED,NOPE", 400},
		{admin, "/export/scans.xlsx?after=yesterday", 400},
		{admin, "/export/scans.csv?userId=nope", 400},
	} {
		if status, _, body := get(t, env, tc.token, tc.path); status != tc.status || strings.TrimSpace(body) == "" {
			t.Errorf("GET %s: %d %q, want %d with a reason", tc.path, status, body, tc.status)
		}
	}
}

func globalUserID(id int64) string { return gid.Encode(gid.User, id) }
