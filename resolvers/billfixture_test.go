package resolvers_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	_ "github.com/lib/pq"

	"tracetrack/internal/apitest"
)

// fixture writes bags straight into the database (the triggers keep every counter exact),
// so bill tests do not depend on the scanning mutations.
type fixture struct {
	db *sql.DB
}

func newFixture(t *testing.T, env *apitest.Env) *fixture {
	t.Helper()
	conn, err := sql.Open("postgres", env.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fixture{db: conn}
}

func (f *fixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := f.db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("fixture: %s: %v", query, err)
	}
}

func (f *fixture) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("fixture: %s: %v", query, err)
	}
	return n
}

// parent inserts a parent bag in the area (code, "" for none).
func (f *fixture) parent(t testing.TB, qr, area string) {
	t.Helper()
	f.exec(t, `INSERT INTO bags (qr, type, area_id) VALUES ($1, 'PARENT', (SELECT id FROM areas WHERE code = $2))`, qr, area)
}

// children inserts n children into the parent, named <prefix>0001...
func (f *fixture) children(t testing.TB, parentQR, prefix string, n int) {
	t.Helper()
	f.exec(t, `
		INSERT INTO bags (qr, type, parent_id, area_id)
		SELECT $2 || lpad(i::text, 4, '0'), 'CHILD', p.id, p.area_id
		FROM bags p, generate_series(1, $3) i
		WHERE p.qr = $1`, parentQR, prefix, n)
}

// parents inserts n parents SB<from>... in the area and returns their QRs.
func (f *fixture) parents(t testing.TB, from, n int, area string) []string {
	t.Helper()
	qrs := make([]string, n)
	for i := range qrs {
		qrs[i] = fmt.Sprintf("SB%05d", from+i)
	}
	f.exec(t, `INSERT INTO bags (qr, type, area_id) SELECT unnest($1::text[]), 'PARENT', (SELECT id FROM areas WHERE code = $2)`,
		pqArray(qrs), area)
	return qrs
}

// pqArray formats strings as a PostgreSQL array literal.
func pqArray(s []string) string {
	raw, _ := json.Marshal(s)
	return "{" + string(raw[1:len(raw)-1]) + "}"
}

type billOut struct {
	ID               string
	BillNumber       string
	Status           string
	Capacity         int
	ParentBagCount   int
	ChildBagCount    int
	TotalWeightKg    float64
	ExpectedWeightKg float64
	Destination      *string
}

const billFields = `id billNumber status capacity parentBagCount childBagCount totalWeightKg expectedWeightKg destination`

type rejection struct{ QR, Code, Message string }

type linkOut struct {
	Bill          billOut
	Linked        []struct{ QR string }
	AlreadyLinked []struct{ QR string }
	Rejected      []rejection
}

func createBill(t testing.TB, env *apitest.Env, token, number string, capacity int) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($n: String!, $c: Int!) { createBill(input: {billNumber: $n, capacity: $c, destination: "Delhi Mandi"}) { `+billFields+` } }`,
		map[string]any{"n": number, "c": capacity})
}

func mustCreateBill(t testing.TB, env *apitest.Env, token, number string, capacity int) billOut {
	t.Helper()
	var out struct{ CreateBill billOut }
	createBill(t, env, token, number, capacity).Decode(t, &out)
	return out.CreateBill
}

func linkBags(t testing.TB, env *apitest.Env, token, billID string, qrs []string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($b: ID!, $q: [String!]!) { linkBagsToBill(billId: $b, parentQrs: $q) {
		bill { `+billFields+` } linked { qr } alreadyLinked { qr } rejected { qr code message } } }`,
		map[string]any{"b": billID, "q": qrs})
}

func mustLink(t testing.TB, env *apitest.Env, token, billID string, qrs ...string) linkOut {
	t.Helper()
	var out struct{ LinkBagsToBill linkOut }
	linkBags(t, env, token, billID, qrs).Decode(t, &out)
	return out.LinkBagsToBill
}

func unlinkBag(t testing.TB, env *apitest.Env, token, billID, qr string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($b: ID!, $q: String!) { unlinkBagFromBill(billId: $b, parentQr: $q) { `+billFields+` } }`,
		map[string]any{"b": billID, "q": qr})
}

func billMutation(t testing.TB, env *apitest.Env, token, name, id string) *apitest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($id: ID!) { `+name+`(id: $id) { `+billFields+` } }`, map[string]any{"id": id})
}

func billByNumber(t testing.TB, env *apitest.Env, token, number string) *billOut {
	t.Helper()
	var out struct{ Bill *billOut }
	env.MustDo(t, token, `query($n: String) { bill(billNumber: $n) { `+billFields+` } }`, map[string]any{"n": number}, &out)
	return out.Bill
}

func itoa(n int) string { return fmt.Sprint(n) }

// globalUserID is the opaque id the API gives the user with the database id.
func globalUserID(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("User:%d", id)))
}
