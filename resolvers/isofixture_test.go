package resolvers_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// isoFixture is two areas' worth of everything: jaipur (the caller's own) and lucknow (the
// other), each with parents, children, scans of every kind and a dispatcher, plus a bill that
// holds parents of both. Everything of lucknow the jaipur dispatcher must never receive is a
// forbidden token.
type isoFixture struct {
	env                    *apitest.Env
	admin, biller          string // tokens
	jaipur, jaipurMate     *db.User
	lucknowUser, billerRow *db.User
	// caller is the jaipur dispatcher's token.
	caller string
	// forbidden maps a token of lucknow (QR, global id, username) to what it is.
	forbidden map[string]string
	// private maps other users' email and lastLoginAt values to whose they are.
	private map[string]string
	// own are jaipur's QRs: the walk must see them, or it proves nothing.
	own []string
	// qrs, ids, billNumbers feed the arguments of the walk: lucknow's and jaipur's.
	qrs, ids, billNumbers []string
	// deletedQRs are lucknow's deleted bags: their scans stay in lucknow's log, and anyone may
	// register the QR again (so the mutation walk leaves them out).
	deletedQRs  []string
	mixedBillID string
}

// isoZone is the business time zone of apitest.DefaultOptions.
var isoZone, _ = time.LoadLocation("Asia/Kolkata")

const (
	jaipurParentQR = "SB61001"
	mixedBill      = "MIXED-ISO-1"
	lucknowBill    = "LKO-ISO-1"
)

// isolationLimits lift the request budget and the sockets per user: the walk's selections are
// far larger than any screen's (that is their point), and the budget is not what these tests
// are about.
func isolationLimits(o *app.Options) {
	o.Limits = app.Limits{MaxComplexity: 1 << 40, MaxDepth: 100, MaxFields: 1 << 20, MaxTokens: 1 << 24, MaxBodyBytes: 64 << 20}
	// the subscription walk spreads its subscriptions over as many sockets of one dispatcher
	// as the schema's argument variants need
	o.Websocket.MaxPerUser = 1000
}

func newIsoFixture(t *testing.T) *isoFixture {
	t.Helper()
	env := apitest.New(t, isolationLimits)
	f := &isoFixture{env: env, forbidden: map[string]string{}, private: map[string]string{}}
	_, f.admin = env.NewUser(t, db.RoleAdmin, "")
	f.billerRow, f.biller = env.NewUser(t, db.RoleBiller, "")
	var lucknow, mate string
	f.jaipur, f.caller = env.NewUser(t, db.RoleDispatcher, "jaipur")
	f.jaipurMate, mate = env.NewUser(t, db.RoleDispatcher, "jaipur")
	f.lucknowUser, lucknow = env.NewUser(t, db.RoleDispatcher, "lucknow")
	f.setPrivate(t, f.jaipur, "jaipur.self@iso.test", "2024-05-06T07:08:09Z", false)
	f.setPrivate(t, f.jaipurMate, "jaipur.mate@iso.test", "2024-06-07T08:09:10Z", true)
	f.setPrivate(t, f.lucknowUser, "lucknow.hidden@iso.test", "2024-07-08T09:10:11Z", true)
	f.setPrivate(t, f.billerRow, "biller.private@iso.test", "2024-08-09T10:11:12Z", true)
	f.forbidden[f.lucknowUser.Username] = "the lucknow dispatcher's username"
	f.forbidden[globalUserID(f.lucknowUser.ID)] = "the lucknow dispatcher's global id"

	// every kind of scan in both areas; the parent "3" of each area is deleted at the end
	f.area(t, lucknow, "SB7100", "LKOKID0", true)
	f.area(t, mate, "SB6100", "JPRKID0", false)
	f.collect(t, "lucknow") // before the deletions, so the deleted bags' ids are known
	bills := map[string]string{}
	for _, number := range []string{mixedBill, lucknowBill} {
		bills[number] = mustCreateBill(t, env, f.biller, number, 5).ID
	}
	mustLink(t, env, f.biller, bills[mixedBill], "SB71001", "SB61001", "SB71002", "SB61002")
	mustLink(t, env, f.biller, bills[lucknowBill], "SB71004")
	// a return ticket with a parent of each area: RETURNED scans in both logs, and a ticket no
	// dispatcher may see
	scanParent(t, env, lucknow, "SB71009")
	scanParent(t, env, mate, "SB61009")
	mustLink(t, env, f.biller, bills[lucknowBill], "SB71009", "SB61009")
	ticket := mustCreateTicket(t, env, f.biller, "Iso C&F")
	if r := mustScanReturn(t, env, f.biller, ticket.ID, "SB71009", "SB61009"); len(r.Returned) != 2 {
		t.Fatalf("fixture: scanReturn: %+v", r)
	}
	f.forbidden["SB71009"] = "a lucknow QR (a returned parent)"
	f.forbidden[ticket.ID] = "a return ticket's global id (dispatchers see no ticket)"
	f.forbidden[ticket.Code] = "a return ticket's code (dispatchers see no ticket)"
	f.ids = append(f.ids, ticket.ID)
	for _, qr := range []string{"SB71002", "SB61002"} {
		if r := unlinkBag(t, env, f.biller, bills[mixedBill], qr); len(r.Errors) > 0 {
			t.Fatalf("fixture: unlink %s: %+v", qr, r.Errors)
		}
	}
	for _, qr := range []string{"SB71003", "SB61003"} {
		mustSucceed(t, env, f.biller, `mutation($q: String!) { deleteBag(qr: $q) }`, map[string]any{"q": qr})
	}
	f.collect(t, "lucknow")
	f.mixedBillID = bills[mixedBill]
	f.own = []string{"SB61001", "SB61002", "JPRKID01", "JPRKID02"}
	f.qrs = []string{"SB71001", "SB71002", "SB71004", "LKOKID01", "LKOKID04", "SB61001", "SB61002", "JPRKID01", "JPRNEW01"}
	f.deletedQRs = []string{"SB71003", "LKOKID03", "LKOKID05", "LKOKID06"}
	f.billNumbers = []string{mixedBill, lucknowBill}
	f.ids = append(f.ids, bills[mixedBill], bills[lucknowBill], globalUserID(f.lucknowUser.ID),
		globalUserID(f.billerRow.ID), globalUserID(f.jaipurMate.ID), f.idOf(t, "SB61001"), f.idOf(t, "JPRKID01"))
	slices.Sort(f.ids)
	f.ids = slices.Compact(f.ids)
	return f
}

// area scans, as the area's dispatcher: parents 1-4; children 1-3 on parent 1, 4 on parent 2,
// 5 on parent 3; child 3 unlinked; child 6 linked to parent 2 and undone. Parent 4 stays empty.
// The QRs of the other area are forbidden.
func (f *isoFixture) area(t *testing.T, token, parent, child string, other bool) {
	t.Helper()
	for i := 1; i <= 4; i++ {
		scanParent(t, f.env, token, fmt.Sprint(parent, i))
	}
	for p, kids := range map[int][]int{1: {1, 2, 3}, 2: {4}, 3: {5}} {
		var qrs []string
		for _, k := range kids {
			qrs = append(qrs, fmt.Sprint(child, k))
		}
		if r := scanChildren(t, f.env, token, fmt.Sprint(parent, p), qrs...); len(r.Linked) != len(qrs) {
			t.Fatalf("fixture: scanChildren %s%d: %+v", parent, p, r)
		}
	}
	mustSucceed(t, f.env, token, `mutation($q: String!) { unlinkChild(childQr: $q) { id } }`, map[string]any{"q": fmt.Sprint(child, 3)})
	scanChildren(t, f.env, token, fmt.Sprint(parent, 2), fmt.Sprint(child, 6))
	if r := f.env.Do(t, token, `mutation { undoLastChildScan { __typename } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("fixture: undo: %+v", r.Errors)
	}
	if !other {
		return
	}
	for i := 1; i <= 6; i++ {
		f.forbidden[fmt.Sprint(child, i)] = "a lucknow QR (a child)"
	}
	for i := 1; i <= 4; i++ {
		f.forbidden[fmt.Sprint(parent, i)] = "a lucknow QR (a parent)"
	}
}

// collect adds the global ids of the area's bags and scans, as an admin reads them.
func (f *isoFixture) collect(t *testing.T, area string) {
	t.Helper()
	var got struct {
		Bags struct {
			Edges []struct{ Node struct{ ID, QR, Type string } }
		}
		Scans struct {
			Edges []struct {
				Node struct{ ID, Kind, BagQr string }
			}
		}
	}
	f.env.MustDo(t, f.admin, `query($a: String) { bags(filter: {areaCode: $a}, first: 100) { edges { node { id qr type } } }
		scans(filter: {areaCode: $a}, first: 100) { edges { node { id kind bagQr } } } }`, map[string]any{"a": area}, &got)
	picked := map[string]bool{} // the walk's arguments get one id of each type of bag and kind of scan
	for _, e := range got.Bags.Edges {
		if !picked[e.Node.Type] {
			picked[e.Node.Type] = true
			f.ids = append(f.ids, e.Node.ID)
		}
		f.forbidden[e.Node.ID] = "a lucknow bag's global id (" + e.Node.QR + ")"
	}
	for _, e := range got.Scans.Edges {
		if !picked[e.Node.Kind] {
			picked[e.Node.Kind] = true
			f.ids = append(f.ids, e.Node.ID)
		}
		f.forbidden[e.Node.ID] = fmt.Sprintf("a lucknow scan's global id (%s of %s)", e.Node.Kind, e.Node.BagQr)
	}
}

func (f *isoFixture) idOf(t *testing.T, qr string) string {
	t.Helper()
	var got struct{ Bag struct{ ID string } }
	f.env.MustDo(t, f.admin, `query($q: String!) { bag(qr: $q) { id } }`, map[string]any{"q": qr}, &got)
	return got.Bag.ID
}

// setPrivate gives the user an email and a last login; hidden ones are other users' secrets.
func (f *isoFixture) setPrivate(t *testing.T, u *db.User, email, lastLogin string, hidden bool) {
	t.Helper()
	mustExec(t, f.env, `UPDATE users SET email = $1, last_login_at = $2 WHERE id = $3`, email, lastLogin, u.ID)
	if hidden {
		f.private[email] = "another user's email (" + u.Username + ")"
		f.private[lastLogin] = "another user's lastLoginAt (" + u.Username + ")"
	}
}

// source offers the walk's argument values: lucknow's QRs and ids (the point of the walk) and
// jaipur's, and plain values for the rest. An argument it does not know is not
// guessed: the walk reports it, so a new argument gets a fixture.
func (f *isoFixture) source(owner, name string, ty typeRef) ([]any, bool) {
	_, isList := ty.listOf()
	named := ty.named()
	key := strings.ToLower(name)
	var values []any
	switch {
	case named == "Time":
		values = []any{"2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"}
	case named == "Date":
		// the fixture's own day (its bills are created today) and a day with nothing
		values = []any{time.Now().In(isoZone).Format(time.DateOnly), "2000-01-01"}
	case named == "Boolean":
		values = []any{true, false}
	case named == "Int" && key == "first":
		values = []any{2}
	case named == "Int" && key == "capacity":
		values = []any{5}
	case named == "Int" && key == "digits":
		values = []any{6}
	case key == "prefix":
		// a label series over lucknow's child QRs, and one over none
		values = []any{"LKO", "ISO"}
	case named == "ID":
		values = anys(f.ids)
	case key == "after" || key == "before":
		// cursors: the server gave the caller none of lucknow's; the defaults are walked
		return nil, true
	case strings.HasSuffix(key, "qr") || strings.HasSuffix(key, "qrs"):
		values = anys(slices.Concat(f.qrs, f.deletedQRs))
	case key == "areacode":
		values = []any{"lucknow", "jaipur"}
	case key == "billnumber":
		values = anys(f.billNumbers)
	case key == "search":
		values = []any{"LKO", "SB71", "MIXED"}
	case key == "qrprefix":
		values = []any{"SB71", "LKO"}
	case key == "username":
		values = []any{f.lucknowUser.Username}
	case key == "password" || key == "currentpassword":
		values = []any{"Wrong#Pass9"}
	case key == "newpassword":
		values = []any{"Next#Pass2"}
	case key == "email":
		values = []any{"new@iso.test"}
	case key == "cflocation" || key == "notes":
		values = []any{"iso " + key}
	case key == "description" || key == "destination" || key == "vehiclenumber":
		values = []any{"iso " + key}
	default:
		return nil, false
	}
	if isList {
		lists := make([]any, len(values))
		for i, v := range values {
			lists[i] = []any{v}
		}
		return lists, true
	}
	return values, true
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// leak is one thing of the other area (or another user's private field) the caller received.
// site names where it came in: the field that let a lucknow object in ("Bill.parentBags -> a
// lucknow Bag"), the last two object fields on the path of a string, or the error message.
type leak struct {
	call, path, site, token, what string
}

// leakReport keeps one leak per site and kind of token, with the first example and a count.
type leakReport struct {
	mu     sync.Mutex
	counts map[string]int
	first  map[string]leak
}

func (r *leakReport) add(l leak) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts, r.first = map[string]int{}, map[string]leak{}
	}
	key := l.site + " | " + strings.SplitN(l.what, " (", 2)[0]
	if r.counts[key] == 0 {
		r.first[key] = l
	}
	r.counts[key]++
}

// fail reports every kind of leak as a test error: the site, what leaked, and one call and path
// that shows it.
func (r *leakReport) fail(t *testing.T) {
	t.Helper()
	keys := make([]string, 0, len(r.first))
	for k := range r.first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		l := r.first[k]
		t.Errorf("LEAK at %s: %s %q (%d times), e.g.\n\t%s\n\tat %s", l.site, l.what, l.token, r.counts[k], l.call, l.path)
	}
}

// checker finds forbidden tokens in an answer.
type checker struct {
	f *isoFixture
	// areaTokens: look for lucknow's tokens (the caller is a jaipur dispatcher). self is the
	// caller: only their own email and lastLoginAt may come back.
	areaTokens bool
	self       *db.User
	report     *leakReport
	// seenOwn are the jaipur QRs seen, otherUsers the other users' objects checked: a walk that
	// reads nothing proves nothing.
	mu         sync.Mutex
	seenOwn    map[string]bool
	otherUsers int
}

// check looks through a GraphQL answer: every string of data and of the errors.
func (c *checker) check(call string, inputs map[string]bool, data json.RawMessage, errs []apitest.Error) {
	var v any
	if len(data) > 0 {
		_ = json.Unmarshal(data, &v)
		c.walk(call, "data", v, inputs, nil, nil, false)
	}
	for i, e := range errs {
		// bad input may be named back to its sender (the server judged the input, not the
		// other area's data); a refusal names nothing of the other area
		var echoes map[string]bool
		if code, _ := e.Extensions["code"].(string); code == "BAD_USER_INPUT" {
			echoes = inputs
		}
		field := strings.SplitN(call, "{", 2)[0]
		c.checkString(call, fmt.Sprintf("errors.%d.message", i), "the error message of "+field, e.Message, inputs, echoes, false)
		raw, _ := json.Marshal(e.Extensions)
		c.checkString(call, fmt.Sprintf("errors.%d.extensions", i), "the error extensions of "+field, string(raw), inputs, echoes, false)
	}
}

// walk visits every value of the answer; steps are the object fields on the way, by type.
// An object of lucknow (its id or QR is forbidden) is reported once, where the answer entered
// it (the field that should have filtered it); what lies inside it is its consequence and is
// not reported again, so each leak names its cause.
func (c *checker) walk(call, path string, v any, inputs, echoes map[string]bool, steps []string, inForeign bool) {
	switch x := v.(type) {
	case map[string]any:
		typeName, _ := x["__typename"].(string)
		if qr, ok := x["qr"].(string); ok && typeName == "ScanRejection" && inputs[qr] {
			// a rejection names the QR it refuses, the caller's own input: no other
			echoes = map[string]bool{qr: true}
		}
		if typeName == "User" && x["id"] != globalUserID(c.self.ID) {
			c.mu.Lock()
			c.otherUsers++
			c.mu.Unlock()
			for _, field := range []string{"email", "lastLoginAt"} {
				if val, ok := x[field]; ok && val != nil {
					c.report.add(leak{call, path + "." + field, "User." + field, fmt.Sprint(val), "another user's " + field})
				}
			}
		}
		if token, what := c.foreign(x); token != "" && !inForeign {
			if inputs[token] {
				what = "an echo of the caller's argument, " + what
			}
			c.report.add(leak{call, path, site(steps[max(len(steps)-1, 0):]) + " -> a lucknow " + typeName, token, what})
			inForeign = true
		}
		for k, val := range x {
			next := steps
			switch {
			case typeName == "" && path == "data":
				next = []string{k}
			case typeName != "" && !strings.HasSuffix(typeName, "Connection") && !strings.HasSuffix(typeName, "Edge"):
				next = append(steps[:len(steps):len(steps)], typeName+"."+k)
			}
			if typeName == "User" && (k == "email" || k == "lastLoginAt") {
				continue // checked above, against the caller
			}
			c.walk(call, path+"."+k, val, inputs, echoes, next, inForeign)
		}
	case []any:
		for i, val := range x {
			c.walk(call, fmt.Sprintf("%s.%d", path, i), val, inputs, echoes, steps, inForeign)
		}
	case string:
		c.checkString(call, path, site(steps), x, inputs, echoes, inForeign)
	}
}

// foreign returns the forbidden identity (id, QR) of an object of lucknow, or "".
func (c *checker) foreign(object map[string]any) (token, what string) {
	if _, entity := object["id"]; !entity || !c.areaTokens {
		return "", "" // a rejection's qr is the caller's own input
	}
	for _, key := range []string{"id", "qr", "bagQr"} {
		if s, ok := object[key].(string); ok {
			if what, ok := c.f.forbidden[s]; ok {
				return s, what
			}
		}
	}
	return "", ""
}

func site(steps []string) string {
	if len(steps) > 2 {
		steps = steps[len(steps)-2:]
	}
	return strings.Join(steps, " > ")
}

// checkString reports the forbidden tokens in s but the echoes allowed there; inputs (the
// caller's arguments) label the other echoes as such.
func (c *checker) checkString(call, path, site, s string, inputs, echoes map[string]bool, inForeign bool) {
	if c.areaTokens && !inForeign {
		for token, what := range c.f.forbidden {
			if containsToken(s, token) && !echoes[token] {
				if inputs[token] {
					what = "an echo of the caller's argument, " + what
				}
				c.report.add(leak{call, path, site, token, what})
			}
		}
		for _, qr := range c.f.own {
			if containsToken(s, qr) {
				c.mu.Lock()
				c.seenOwn[qr] = true
				c.mu.Unlock()
			}
		}
	}
	for token, what := range c.f.private {
		if containsToken(s, token) {
			c.report.add(leak{call, path, site, token, what})
		}
	}
}

// containsToken finds the token as a whole word: global ids are unpadded base64, so the id
// of bag 12 is a prefix of the id of bag 123.
func containsToken(s, token string) bool {
	for from := 0; ; {
		i := strings.Index(s[from:], token)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(token)
		if (i == 0 || !isTokenChar(s[i-1])) && (end == len(s) || !isTokenChar(s[end])) {
			return true
		}
		from = i + 1
	}
}

func isTokenChar(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

// inputsOf are the strings the caller passed.
func inputsOf(v any) map[string]bool {
	out := map[string]bool{}
	var visit func(any)
	visit = func(v any) {
		switch x := v.(type) {
		case string:
			out[x] = true
		case []any:
			for _, e := range x {
				visit(e)
			}
		case map[string]any:
			for _, e := range x {
				visit(e)
			}
		case variant:
			for _, e := range x {
				visit(e)
			}
		}
	}
	visit(v)
	return out
}
