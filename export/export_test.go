package export_test

import (
	"database/sql"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

func get(t *testing.T, env *apitest.Env, token, path string) (int, string, string) {
	t.Helper()
	status, header, body := env.Send(t, http.MethodGet, token, path, "", nil)
	return status, header.Get("Content-Type"), body
}

func records(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	return rows
}

func seed(t *testing.T, env *apitest.Env, statements ...string) {
	t.Helper()
	conn, err := sql.Open("postgres", env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range statements {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestExportsStreamTheFilteredRowsAndEnforceRoles(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	_, jaipur := env.NewUser(t, db.RoleDispatcher, "jaipur")
	// 2,500 jaipur parents with one child each (more rows than one flush) and 3 hisar parents
	seed(t, env,
		`INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 3 FROM generate_series(1, 2500) i`,
		`INSERT INTO bags (qr, type, parent_id, area_id) SELECT 'JC' || lpad(id::text, 6, '0'), 'CHILD', id, 3 FROM bags WHERE area_id = 3`,
		`INSERT INTO bags (qr, type, area_id) SELECT 'M444-' || lpad(i::text, 5, '0'), 'PARENT', 4 FROM generate_series(1, 3) i`,
		`INSERT INTO bills (bill_number, capacity, destination) VALUES ('EXP-1', 10, 'Kota, "North"'), ('EXP-2', 5, NULL)`,
		`INSERT INTO bill_bags (bag_id, bill_id) SELECT b.id, (SELECT id FROM bills WHERE bill_number = 'EXP-1') FROM bags b WHERE qr = 'SB00001'`)

	for _, tc := range []struct {
		token, path string
		status      int
	}{
		{"", "/export/bills.csv", 401},
		{"", "/export/bags.csv", 401},
		{"not-a-token", "/export/bags.csv", 401},
		{jaipur, "/export/bags.csv?areaCode=hisar", 403},
		{admin, "/export/bags.csv?areaCode=atlantis", 400},
		{admin, "/export/bags.csv?type=BOX", 400},
		{admin, "/export/bills.csv?createdAfter=yesterday", 400},
		{admin, "/export/bills.csv?createdById=nope", 400},
	} {
		status, _, body := get(t, env, tc.token, tc.path)
		if status != tc.status || strings.TrimSpace(body) == "" {
			t.Errorf("GET %s: %d %q, want %d with a reason", tc.path, status, body, tc.status)
		}
	}

	status, contentType, body := get(t, env, jaipur, "/export/bags.csv")
	rows := records(t, body)
	if status != 200 || contentType != "text/csv; charset=utf-8" || len(rows) != 1+5000 || rows[0][0] != "qr" {
		t.Fatalf("dispatcher bags.csv: %d %s, %d rows", status, contentType, len(rows))
	}
	for _, r := range rows[1:] {
		if r[3] != "jaipur" {
			t.Fatalf("dispatcher export holds a row of another area: %v", r)
		}
	}
	if r := rows[1]; r[0] != "SB00001" || r[5] != "1" || r[6] != "1" || r[7] != "EXP-1" {
		t.Errorf("first parent row = %v", r)
	}
	if r := rows[2501]; r[1] != "CHILD" || r[4] != "SB00001" || r[7] != "EXP-1" {
		t.Errorf("first child row = %v (its parent and its parent's bill)", r)
	}

	_, _, body = get(t, env, admin, "/export/bags.csv?areaCode=hisar&type=PARENT&billed=false&qrPrefix=m444")
	if rows := records(t, body); len(rows) != 4 || rows[1][0] != "M444-00001" {
		t.Errorf("admin hisar parents = %v", rows)
	}
	_, _, body = get(t, env, admin, "/export/bags.csv?billed=true")
	if rows := records(t, body); len(rows) != 2 || rows[1][0] != "SB00001" {
		t.Errorf("billed parents = %v", rows)
	}

	_, _, body = get(t, env, jaipur, "/export/bills.csv")
	bills := records(t, body)
	if len(bills) != 3 || bills[1][0] != "EXP-2" || bills[2][0] != "EXP-1" || bills[2][7] != `Kota, "North"` ||
		bills[2][1] != "IN_PROGRESS" || bills[2][4] != "1" || bills[2][6] != "300" {
		t.Errorf("bills.csv = %v", bills)
	}
	_, _, body = get(t, env, admin, "/export/bills.csv?status=OPEN&search=exp")
	if bills := records(t, body); len(bills) != 2 || bills[1][0] != "EXP-2" {
		t.Errorf("open bills = %v", bills)
	}
}

// Every user-typed cell of every export is neutralised against spreadsheet formulas.
func TestExportsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	seed(t, env, `INSERT INTO bills (bill_number, capacity, destination, vehicle_number, description)
		VALUES ('F-1', 10, '=HYPERLINK("http://evil")', '+911', '@SUM(A1)'),
		       ('F-2', 10, '-2+3', E'\tcmd', E'\r=1')`)
	_, _, body := get(t, env, admin, "/export/bills.csv")
	rows := records(t, body)
	if len(rows) != 3 {
		t.Fatalf("bills.csv = %v", rows)
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("bill %s column %s = %q starts a formula", row[0], rows[0][i], cell)
			}
		}
	}
	if got := rows[2][7]; got != `'=HYPERLINK("http://evil")` {
		t.Errorf("destination = %q, want it behind an apostrophe", got)
	}
}
