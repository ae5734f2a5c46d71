package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// badInput is one malformed request as a client sends it, and what it must be answered.
type badInput struct {
	name string
	// method is POST (body sent as application/json) unless set; GET sends rawQuery.
	method, body, rawQuery string
	status                 int
	code                   string
	// want are pieces of the message: what is wrong and what is accepted.
	want []string
}

// post is a POST of a GraphQL request built from query and variables.
func post(name, query string, variables map[string]any, status int, want ...string) badInput {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	return badInput{name: name, body: string(body), status: status, code: "BAD_USER_INPUT", want: want}
}

func raw(name, body string, status int, want ...string) badInput {
	return badInput{name: name, body: body, status: status, code: "BAD_USER_INPUT", want: want}
}

func get(name string, params url.Values, status int, want ...string) badInput {
	return badInput{name: name, method: http.MethodGet, rawQuery: params.Encode(), status: status, code: "BAD_USER_INPUT", want: want}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

const (
	bagsAfter   = `query($t: Time) { bags(filter: {createdAfter: $t}) { totalCount } }`
	rfc3339     = "RFC 3339 date-time with a zone"
	noNUL       = "must not contain the NUL character"
	firstVar    = `query($n: Int) { bags(first: $n) { totalCount } }`
	meQuery     = `{ me { id } }`
	wholeNumber = "whole number"
)

// badInputs is one row per class of bad input (and the variants of a class that take
// different paths through the server).
func badInputs() []badInput {
	long := strings.Repeat("x", 5000)
	return []badInput{
		// Time: RFC 3339 with a zone, nothing else, as a literal or a variable, at any depth.
		post("Time: a date alone (literal)", `{ bags(filter: {createdAfter: "2026-12-01"}) { totalCount } }`, nil, 200, "createdAfter", rfc3339, `"2026-12-01"`),
		post("Time: a word", bagsAfter, map[string]any{"t": "yesterday"}, 200, "createdAfter", rfc3339, `"yesterday"`),
		post("Time: no zone", bagsAfter, map[string]any{"t": "2026-12-01T10:00:00"}, 200, rfc3339),
		post("Time: an offset out of range", bagsAfter, map[string]any{"t": "2026-12-01T10:00:00+99:00"}, 200, rfc3339),
		post("Time: a number", bagsAfter, map[string]any{"t": 1764547200}, 200, rfc3339, "the number 1764547200"),
		post("Time: an object", bagsAfter, map[string]any{"t": map[string]any{"day": 1}}, 200, rfc3339, "an object"),
		post("Time: an empty string", bagsAfter, map[string]any{"t": ""}, 200, rfc3339),
		post("Time: a summary window", `{ scanSummary(groupBy: DAY, from: "tomorrow") { count } }`, nil, 200, "from", rfc3339),

		// The request body's shape.
		raw("body: query is a number", `{"query": 123}`, 400, `"query" must be a string`, "the number 123"),
		raw("body: query is an object", `{"query": {"a": 1}}`, 400, `"query" must be a string`),
		raw("body: variables is a list", `{"query": "{ me { id } }", "variables": [1]}`, 400, `"variables" must be a JSON object`, "a list"),
		raw("body: variables is a string", `{"query": "{ me { id } }", "variables": "{}"}`, 400, `"variables" must be a JSON object`),
		raw("body: operationName is a number", `{"query": "{ me { id } }", "operationName": 5}`, 400, `"operationName" must be a string`),
		raw("body: extensions is a number", `{"query": "{ me { id } }", "extensions": 5}`, 400, `"extensions" must be a JSON object`),
		raw("body: a batch (JSON array)", `[{"query": "{ me { id } }"}]`, 400, "batched requests", "one operation per request"),
		raw("body: empty", ``, 400, "empty", "JSON object"),
		raw("body: only spaces", "  \n ", 400, "empty"),
		raw("body: JSON null", `null`, 400, "must be a JSON object"),
		raw("body: a JSON string", `"{ me { id } }"`, 400, "must be a JSON object"),
		raw("body: truncated JSON", `{"query": "{ me { id } }"`, 400, "not valid JSON"),
		raw("body: trailing garbage", `{"query": "{ me { id } }"} x`, 400, "not valid JSON"),
		raw("body: not UTF-8", "{\"query\": \"{ me { id } }\xff\"}", 400, "not UTF-8"),
		raw("body: no query", `{"variables": {}}`, 422, "has no query"),

		// NUL bytes, refused before the database whichever string carries them.
		post("NUL: a QR", `query($s: String!) { bag(qr: $s) { id } }`, map[string]any{"s": "SB0\x000860"}, 200, "qr", noNUL),
		post("NUL: a username", `mutation($s: String!) { login(username: $s, password: "Test#Pass1") { token } }`, map[string]any{"s": "ad\x00min"}, 200, "username", noNUL),
		post("NUL: a password", `mutation($s: String!) { createUser(input: {username: "nul_pw", password: $s, role: BILLER}) { id } }`, map[string]any{"s": "Test#Pass1\x00"}, 200, "password", noNUL),
		post("NUL: a bill number", `mutation($s: String!) { createBill(input: {billNumber: $s, capacity: 3}) { id } }`, map[string]any{"s": "BN\x00-1"}, 200, "billNumber", noNUL),
		post("NUL: a bill description", `mutation($s: String!) { createBill(input: {billNumber: "BN-NUL", description: $s, capacity: 3}) { id } }`, map[string]any{"s": "a\x00b"}, 200, "description", noNUL),
		post("NUL: a bag search", `query($s: String!) { bags(filter: {search: $s}) { totalCount } }`, map[string]any{"s": "SB\x00"}, 200, "search", noNUL),
		post("NUL: a bill search", `query($s: String!) { bills(filter: {search: $s}) { totalCount } }`, map[string]any{"s": "x\x00"}, 200, "search", noNUL),
		post("NUL: an area code", `query($s: String!) { stats(areaCode: $s) { bills } }`, map[string]any{"s": "jaipur\x00"}, 200, "areaCode", noNUL),
		post("NUL: one child QR of a batch", `mutation($l: [String!]!) { scanChildren(parentQr: "SB00001", childQrs: $l) { linked { id } } }`, map[string]any{"l": []string{"0016586", "00\x0016587"}}, 200, "childQrs[1]", noNUL),
		post("NUL: a GraphQL string escape", `{ bags(filter: {search: "a\u0000b"}) { totalCount } }`, nil, 200, "search", noNUL),
		post("NUL: an id", `query($i: ID!) { node(id: $i) { id } }`, map[string]any{"i": "QmFnOjE\x00"}, 200, "id", noNUL),

		// Automatic persisted queries.
		raw("APQ: a hash that does not match its query", `{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "`+sha("{ stats { bills } }")+`"}}}`, 422, "is not the SHA-256 of the query", sha(meQuery)),
		{name: "APQ: an unknown hash", body: `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + sha("never sent") + `"}}}`, status: 422, code: "NOT_FOUND", want: []string{"PersistedQueryNotFound"}},
		raw("APQ: persistedQuery is a number", `{"query": "{ me { id } }", "extensions": {"persistedQuery": 5}}`, 422, "extensions.persistedQuery must be an object", `"version": 1`),
		raw("APQ: version 2", `{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 2, "sha256Hash": "`+sha(meQuery)+`"}}}`, 422, "version must be 1"),
		raw("APQ: version as a string", `{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": "1", "sha256Hash": "`+sha(meQuery)+`"}}}`, 422, "version must be 1"),
		raw("APQ: a hash that is not hex", `{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}`, 422, "sha256Hash must be 64 hex digits"),
		raw("APQ: a hash that is a number", `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 5}}}`, 422, "sha256Hash must be 64 hex digits"),

		// Operations and documents.
		raw("operation: an unknown operationName", `{"query": "query A { me { id } }", "operationName": "B"}`, 422, `operationName "B"`, "it holds: A"),
		raw("operation: several and no operationName", `{"query": "query A { me { id } } query B { me { id } }"}`, 422, "holds 2 operations (A, B)", "operationName"),
		post("document: a syntax error", `{ me { id }`, nil, 422, "not valid GraphQL", "line 1"),
		post("document: an unknown field", `{ launchMissiles }`, nil, 422, `Cannot query field "launchMissiles"`),

		// GET.
		get("GET: variables that are not JSON", url.Values{"query": {meQuery}, "variables": {"{qr:1}"}}, 400, "variables parameter is not valid JSON"),
		get("GET: variables that are a list", url.Values{"query": {meQuery}, "variables": {"[1]"}}, 400, `"variables" must be a JSON object`),
		get("GET: extensions that are not JSON", url.Values{"query": {meQuery}, "extensions": {"x"}}, 400, "extensions parameter is not valid JSON"),
		{name: "GET: a malformed URL escape", method: http.MethodGet, rawQuery: "query=%7Bme%zz", status: 400, code: "BAD_USER_INPUT", want: []string{"query string is malformed", "URL-encode"}},
		{name: "GET: a query that is not UTF-8", method: http.MethodGet, rawQuery: "query=%7B%FF%7D", status: 400, code: "BAD_USER_INPUT", want: []string{"query parameter is not UTF-8"}},
		get("GET: a mutation", url.Values{"query": {`mutation { logout }`}}, 422, "a mutation cannot be sent with GET", "POST"),
		get("GET: no query", url.Values{}, 422, "has no query"),
		get("GET: a subscription", url.Values{"query": {`subscription { scanAdded { id } }`}}, 422, "a subscription is served over a websocket", "not over GET"),
		post("POST: a subscription", `subscription { scanAdded { id } }`, nil, 422, "a subscription is served over a websocket", "graphql-transport-ws"),
		post("POST: a subscription that has an event at once", `subscription { statsUpdated { bills } }`, nil, 422, "a subscription is served over a websocket"),
		{name: "method: PUT", method: http.MethodPut, body: `{"query": "{ me { id } }"}`, status: 405, code: "BAD_USER_INPUT", want: []string{"not PUT", "POST"}},

		// Variables of the wrong type, enums, Int range.
		post("variable: an Int sent as a string", firstVar, map[string]any{"n": "3"}, 200, "first", "GraphQL Int", `the string "3"`),
		post("variable: an Int with a fraction", firstVar, map[string]any{"n": 1.5}, 422, "variable $n (declared Int)", wholeNumber),
		post("variable: an Int past int64", firstVar, map[string]any{"n": json.Number("99999999999999999999")}, 422, "variable $n", wholeNumber),
		post("variable: an Int past 32 bits", firstVar, map[string]any{"n": int64(1) << 40}, 200, "first", "between -2147483648 and 2147483647"),
		post("literal: an Int past 32 bits", `mutation { createBill(input: {billNumber: "BN-BIG", capacity: 99999999999}) { id } }`, nil, 200, "capacity", "between -2147483648 and 2147483647"),
		post("variable: an ID that is an object", `query($i: ID!) { node(id: $i) { id } }`, map[string]any{"i": map[string]any{}}, 422, "variable $i (declared ID!)"),
		post("variable: an input object that is a string", `query($f: BagFilter) { bags(filter: $f) { totalCount } }`, map[string]any{"f": "PARENT"}, 422, "variable $f", "BagFilter"),
		post("variable: an unknown input field", `query($f: BagFilter) { bags(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"colour": "red"}}, 422, "variable $f", "colour", "unknown field"),
		post("variable: a required one missing", `query($qr: String!) { bag(qr: $qr) { id } }`, nil, 422, "variable $qr", "must be defined"),
		post("variable: an unknown enum value", `query($r: Role) { users(role: $r) { totalCount } }`, map[string]any{"r": "OWNER"}, 422, "variable $r (declared Role)", "OWNER is not a valid Role"),
		post("variable: an enum value in lower case", `mutation($r: Role!) { createUser(input: {username: "lower_role", password: "Test#Pass1", role: $r}) { id } }`, map[string]any{"r": "biller"}, 422, "variable $r (declared Role!)", `"biller" is not a Role`, "ADMIN, BILLER, DISPATCHER"),
		post("variable: a generated enum in lower case", `query($g: ScanGrouping!) { scanSummary(groupBy: $g) { key } }`, map[string]any{"g": "day"}, 422, `"day" is not a ScanGrouping`, "DAY, HOUR"),
		post("variable: an enum in lower case inside an input object", `query($f: BagFilter) { bags(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"type": "parent"}}, 422, "variable $f", `type: the string "parent" is not a BagType`),
		post("variable: an enum in lower case inside a list", `query($f: ScanFilter) { scans(filter: $f) { edges { node { id } } } }`, map[string]any{"f": map[string]any{"kinds": []string{"CHILD_LINKED", "bag_deleted"}}}, 422, `kinds: the string "bag_deleted" is not a ScanKind`),
		post("variable: one enum in lower case for a list of them", `query($k: [ScanKind!]) { scans(filter: {kinds: $k}) { edges { node { id } } } }`, map[string]any{"k": "child_linked"}, 422, `the string "child_linked" is not a ScanKind`),
		post("variable: an unknown enum for a list of them", `query($k: [ScanKind!]) { scans(filter: {kinds: $k}) { edges { node { id } } } }`, map[string]any{"k": []string{"CHILD_LINKED", "LOST"}}, 422, "LOST is not a valid ScanKind"),
		post("literal: an unknown enum value", `{ bags(filter: {type: BOX}) { totalCount } }`, nil, 422, `"BOX" does not exist in "BagType"`),

		// Ids and cursors that do not decode.
		post("id: not base64", `{ node(id: "not an id!") { id } }`, nil, 200, "is not an id this server gave out"),
		post("id: a number past int64", `{ bill(id: "QmlsbDo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ") { id } }`, nil, 200, "is not an id this server gave out"),
		post("id: of another type", `{ bill(id: "QmFnOjE") { id } }`, nil, 200, "is the id of a Bag, not of a Bill"),
		post("id: an unknown type", `{ node(id: "Rm9vOjE") { id } }`, nil, 200, "node(id) finds"),
		post("id: a mutation's", `mutation { completeBill(id: "nope") { id } }`, nil, 200, "is not an id this server gave out"),
		post("cursor: not one given out", `{ bags(after: "zzz") { totalCount } }`, nil, 200, "cursor", "endCursor"),
		post("cursor: a nested list's", `{ bills(first: 1) { edges { node { parentBags(after: "bad") { totalCount } } } } }`, nil, 200, "cursor"),

		// Strings longer than their column's rule.
		post("long: a bill description", `mutation($s: String!) { createBill(input: {billNumber: "BN-LONG", description: $s, capacity: 3}) { id } }`, map[string]any{"s": long}, 200, "description has at most"),
		post("long: a bill number", `mutation($s: String!) { createBill(input: {billNumber: $s, capacity: 3}) { id } }`, map[string]any{"s": long}, 200, "bill number"),
		post("long: a username", `mutation($s: String!) { createUser(input: {username: $s, password: "Test#Pass1", role: BILLER}) { id } }`, map[string]any{"s": long}, 200, "username"),
		post("long: a QR", `query($s: String!) { bag(qr: $s) { id } }`, map[string]any{"s": long}, 200, "is not a valid QR"),
		post("long: an e-mail address", `mutation($s: String!) { createUser(input: {username: "long_mail", email: $s, password: "Test#Pass1", role: BILLER}) { id } }`, map[string]any{"s": long}, 200, "is not an e-mail address"),
		post("long: an area code", `query($s: String!) { stats(areaCode: $s) { bills } }`, map[string]any{"s": long}, 200, "unknown area"),
		post("long: an id", `query($s: ID!) { node(id: $s) { id } }`, map[string]any{"s": long}, 200, "is not an id this server gave out"),
		post("long: a cursor", `query($s: String!) { bags(after: $s) { totalCount } }`, map[string]any{"s": long}, 200, "cursor"),
		post("long: a bill search", `query($s: String!) { bills(filter: {search: $s}) { totalCount } }`, map[string]any{"s": long}, 200, "bill search text has at most"),
		post("long: a bag search", `query($s: String!) { bags(filter: {search: $s}) { totalCount } }`, map[string]any{"s": long}, 200, "search text must be"),
		post("long: a password", `mutation($s: String!) { createUser(input: {username: "long_pw", password: $s, role: BILLER}) { id } }`, map[string]any{"s": "Aa1#" + long}, 200, "password", "72"),
	}
}

// maxMessage bounds an error message: one quoting a client's value quotes it cut short.
const maxMessage = 600

// TestBadInputIsBadUserInput sends every class of bad input as clients send it: each is
// BAD_USER_INPUT (NOT_FOUND for an unknown persisted query) with a message saying what is
// wrong and what is accepted (quoting no value whole), with a sensible HTTP status, and
// never INTERNAL_SERVER_ERROR.
func TestBadInputIsBadUserInput(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	env.MustDo(t, token, `mutation { createBill(input: {billNumber: "BN-FIXTURE", capacity: 3}) { id } }`, nil, &struct{}{})
	for _, tc := range badInputs() {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := send(t, env, token, tc)
			if len(resp.Errors) == 0 {
				t.Fatalf("status %d, no error (data %s); want %s", status, resp.Data, tc.code)
			}
			e := resp.Errors[0]
			if code := resp.Code(); code != tc.code || status != tc.status {
				t.Errorf("status %d code %q (%q); want %d %s", status, code, e.Message, tc.status, tc.code)
			}
			if len(e.Message) > maxMessage {
				t.Errorf("a message of %d bytes (a value echoed whole?): %.200q...", len(e.Message), e.Message)
			}
			for _, piece := range tc.want {
				if !strings.Contains(e.Message, piece) {
					t.Errorf("message %q does not say %q", e.Message, piece)
				}
			}
		})
	}
}

// send makes the request of tc and decodes the answer, which must be a GraphQL response.
func send(t *testing.T, env *apitest.Env, token string, tc badInput) (int, *apitest.Response) {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, env.URL+"?"+tc.rawQuery, bytes.NewReader([]byte(tc.body)))
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out apitest.Response
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("status %d, the answer is not a GraphQL response: %s", res.StatusCode, body)
	}
	return res.StatusCode, &out
}

// TestRequestIDThatIsNotUTF8 sends a login with an X-Request-ID the audit log could not
// store: the server replaces it, and the login is answered as any other.
func TestRequestIDThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	user, _ := env.NewUser(t, db.RoleBiller, "")
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		"variables": map[string]any{"u": user.Username, "p": apitest.Password},
	})
	req, _ := http.NewRequest(http.MethodPost, env.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "id-\xff\xfe")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out apitest.Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 || res.StatusCode != http.StatusOK {
		t.Fatalf("login with a non-UTF-8 X-Request-ID: status %d, errors %+v", res.StatusCode, out.Errors)
	}
	if echoed := res.Header.Get("X-Request-ID"); echoed == "id-\xff\xfe" || echoed == "" {
		t.Errorf("X-Request-ID %q echoed as %q; want a generated one", "id-\xff\xfe", echoed)
	}
}

// TestExportBadParametersAreRefused: the CSV exports' parameters follow the same scalar
// rules as GraphQL's arguments (one Time format, no NUL), answered 400 with the reason.
func TestExportBadParametersAreRefused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	cases := []struct{ path, want string }{
		{"/export/bags.csv?createdAfter=2026-12-01", "createdAfter must be an " + rfc3339},
		{"/export/bills.csv?createdBefore=yesterday", "createdBefore must be an " + rfc3339},
		{"/export/bags.csv?search=SB%00", "search " + noNUL},
		{"/export/bills.csv?search=%00", "search " + noNUL},
		{"/export/bags.csv?qrPrefix=%FF", "qrPrefix must be UTF-8 text"},
		{"/export/bills.csv?search=" + strings.Repeat("x", 5000), "bill search text has at most"},
		// a misspelt or unknown filter, or one given twice, would export rows it was meant to keep out
		{"/export/bags.csv?createdafter=2026-12-01T00:00:00Z", `unknown parameter "createdafter"; this export takes areaCode, billed, createdAfter`},
		{"/export/bills.xlsx?staus=COMPLETED", `unknown parameter "staus"`},
		{"/export/scans.csv?first=10", `unknown parameter "first"`},
		{"/export/epcis.jsonld?since=2026-12-01T00:00:00Z", `unknown parameter "since"; this export takes from, to`},
		{"/export/bags.csv?qrPrefix=SB&qrPrefix=M4", "qrPrefix is given 2 times"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodGet, env.Server.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %q; want 400 saying %q", tc.path, res.StatusCode, body, tc.want)
		}
	}
}

// TestTimesAtEveryRFC3339Offset sends times whose offsets RFC 3339 allows but PostgreSQL does
// not take (16:00 to 23:59): each is the instant it names, on every path that reads a Time,
// never INTERNAL_SERVER_ERROR.
func TestTimesAtEveryRFC3339Offset(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	env.MustDo(t, token, `mutation { scanParent(qr: "SB00860") { id } }`, nil, &struct{}{})
	for _, tc := range []struct{ at, same string }{
		{"2000-01-01T23:59:00-23:59", "2000-01-02T23:58:00Z"},
		{"2000-01-01T00:00:00+16:00", "1999-12-31T08:00:00Z"},
		{"2999-12-31T23:59:59-15:59", "3000-01-01T15:58:59Z"},
	} {
		var got, want struct {
			Bags struct{ TotalCount int }
		}
		env.MustDo(t, token, bagsAfter, map[string]any{"t": tc.at}, &got)
		env.MustDo(t, token, bagsAfter, map[string]any{"t": tc.same}, &want)
		if got != want {
			t.Errorf("createdAfter %s: %+v; want what %s gets, %+v", tc.at, got, tc.same, want)
		}
		instant, _ := time.Parse(time.RFC3339, tc.same)
		summary := `query($f: Time!, $t: Time!) { scanSummary(groupBy: DAY, from: $f, to: $t) { count } billSummary(groupBy: DAY, from: $f, to: $t) { bills } }`
		if resp := env.Do(t, token, summary, map[string]any{"f": tc.at, "t": instant.Add(time.Hour).Format(time.RFC3339)}); len(resp.Errors) > 0 {
			t.Errorf("summaries from %s: %s %q", tc.at, resp.Code(), resp.Errors[0].Message)
		}
		for _, path := range []string{"/export/bags.csv?createdAfter=", "/export/scans.csv?after=", "/export/epcis.jsonld?from="} {
			if status, body := env.Get(t, token, path+url.QueryEscape(tc.at)); status != http.StatusOK {
				t.Errorf("%s%s: %d %.200q", path, tc.at, status, body)
			}
		}
	}
}
