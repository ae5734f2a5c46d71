package resolvers_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"tracetrack/internal/apitest"
	"tracetrack/internal/gid"
	"tracetrack/qr"
)

// The hostile walk: every argument of every query and mutation field, and every field of
// their input objects, is sent each hostile value of its type in turn (the others keep a
// valid fixture value), as an admin and as a dispatcher. Whatever a client sends, the answer
// is data or errors with a contract code other than INTERNAL_SERVER_ERROR (or
// SERVICE_UNAVAILABLE: a client's value must not take the database down), and a message a
// person can act on that gives away nothing of the server's insides. Like the isolation walk
// it reads the schema by introspection, so a new argument is walked without touching this
// file, and a type it has no hostile values for fails it.

// hostileStrings are texts no form would send: empty, blank, invisible, full-width, control
// characters, combining marks, bidi overrides, SQL and LIKE metacharacters, emoji, very long.
var hostileStrings = []any{
	"", " \t\r\n ", "\u200b\u200d\ufeff", "ＳＢ００８６０", "\x01\x1f\x7f", "SB0086\u0301",
	"\u202eSB00860", "'; DROP TABLE bags; --", `%_\`, strings.Repeat("😀", 40), "\ufffd",
	strings.Repeat("A", 10_000), "null", "-1",
}

// hostileIDs are ids this server never gave out, or gave out for another type, and ids of
// rows that do not exist (0, negative, past int64).
func hostileIDs() []any {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	out := append([]any{}, hostileStrings...)
	for _, kind := range []string{"Bag", "Bill", "User", "Scan", "ReturnTicket", "ImportJob", "AuditEntry", "Area", "Nope"} {
		out = append(out, enc(kind+":999999"))
	}
	return append(out, enc("Bag:0"), enc("Bag:-1"), enc("Bag:9223372036854775807"), enc("Bag:9223372036854775808"),
		enc("Bag: 1"), enc("Bag:1 "), enc("Bag:01"), enc("Bag:1x"), enc("Bag:1")+"=", enc(":1"), enc("Bag"),
		base64.StdEncoding.EncodeToString([]byte("Bill:1?>")))
}

// hostileCursors are cursors of rows that cannot exist and cursors that are no cursor.
func hostileCursors() []any {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return append(append([]any{}, hostileStrings...), enc("c:0"), enc("c:-1"), enc("c:9223372036854775807"),
		enc("c:9223372036854775808"), enc("c:"), enc("c:1 "), enc("c:1e3"))
}

var hostileByType = map[string][]any{
	"Int":     {-2147483648, -1, 0, 2147483647},
	"Float":   {-1e308, -1, 0, 1e-300, 1e308},
	"Boolean": {true, false},
	"Time": {"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00+14:00",
		"2026-12-01T10:00:00.123456789-12:00", "2026-12-01T10:00:00Z", "1999-12-31T23:59:60Z"},
	"Date": {"0001-01-01", "9999-12-31", "2024-02-29", "1900-02-29", "0000-01-01"},
}

// hostileLists are lists of every length that matters: none, over each batch limit, far over.
func hostileLists(elems []any) []any {
	out := []any{[]any{}}
	for _, e := range elems {
		out = append(out, []any{e, e})
	}
	for _, n := range []int{31, 101, 501, 10_000} {
		list := make([]any, n)
		for i := range list {
			list[i] = fmt.Sprintf("H%07d", i)
		}
		out = append(out, list)
	}
	return out
}

// hostileSource offers, for each argument, the fixture's first value (so the other arguments
// reach the resolver) and then every hostile value of its type.
func (f *isoFixture) hostileSource(owner, name string, ty typeRef) ([]any, bool) {
	_, isList := ty.listOf()
	named := ty.named()
	var hostile []any
	switch {
	case named == "ID":
		hostile = hostileIDs()
	case named == "String" && (name == "after" || name == "before"):
		hostile = hostileCursors()
	case named == "String":
		hostile = hostileStrings
	default:
		var ok bool
		if hostile, ok = hostileByType[named]; !ok {
			return nil, false
		}
	}
	if isList {
		hostile = hostileLists(hostile)
	}
	fixture, ok := f.source(owner, name, ty)
	if ok && len(fixture) > 0 {
		return append([]any{fixture[0]}, hostile...), true
	}
	return hostile, true
}

// oneAtATime returns the calls of a root field: every argument at its first value (omitted
// when optional), then each argument at each of its other values in turn.
func (s *schema) oneAtATime(owner string, f schemaField, source argSource) ([]variant, []string) {
	args, unfilled := s.argValues(owner, f, source)
	base := variant{}
	for _, a := range args {
		base = base.with(a.arg.Name, a.values[0])
	}
	out := []variant{base}
	for _, a := range args {
		for _, v := range a.values[1:] {
			out = append(out, base.with(a.arg.Name, v))
		}
	}
	return out, unfilled
}

// shallowSelection selects the scalar fields of a type and of the objects below it, two
// levels down (the arguments under test are the root's; nested lists get small pages).
func (b *selector) shallowSelection(typeName string, depth int, alias map[string]bool) string {
	if b.s.isLeaf(typeName) {
		return ""
	}
	ty := b.s.types[typeName]
	var sb strings.Builder
	sb.WriteString("{ __typename")
	for _, p := range ty.PossibleTypes {
		fmt.Fprintf(&sb, " ... on %s %s", p.Name, b.shallowSelection(p.Name, depth, b.s.conflicting(ty)))
	}
	if ty.Kind == "OBJECT" {
		for _, f := range ty.Fields {
			target := f.Type.named()
			name := responseName(typeName, f.Name, alias) + b.nestedArgs(typeName+"."+f.Name, f)
			if b.s.isLeaf(target) {
				sb.WriteString(" " + name)
			} else if depth < 2 {
				sb.WriteString(" " + name + " " + b.shallowSelection(target, depth+1, nil))
			}
		}
	}
	sb.WriteString(" }")
	return sb.String()
}

// internalDetail is what a message must never show: driver and SQL errors, Go runtime
// errors, source positions, stack traces.
var internalDetail = regexp.MustCompile(`(?i)\bpq:|sqlstate|\bsql:|syntax error at|violates .* constraint|runtime error|nil pointer|panic|goroutine|\.go:\d+|invalid memory|context canceled|deadline exceeded|unexpected EOF`)

// hostileFailures keeps one failure per field, code and message shape, with a count.
type hostileFailures struct {
	mu    sync.Mutex
	first map[string]string
	count map[string]int
	// codes counts the answers by their first error's code ("" for data), for the log
	codes map[string]int
}

func (h *hostileFailures) answered(code string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.codes[code]++
}

func (h *hostileFailures) add(key, example string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.first[key]; !ok {
		h.first[key] = example
	}
	h.count[key]++
}

func (h *hostileFailures) fail(t *testing.T) {
	t.Helper()
	keys := make([]string, 0, len(h.first))
	for k := range h.first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%s (%d calls), e.g. %s", k, h.count[k], h.first[k])
	}
}

// checkHostileAnswer files what is wrong with one answer.
func checkHostileAnswer(h *hostileFailures, call string, inputs map[string]bool, resp *apitest.Response) {
	h.answered(resp.Code())
	if resp.Status >= 500 {
		h.add(fmt.Sprintf("%s: HTTP %d", strings.SplitN(call, "{", 2)[0], resp.Status), call)
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		field := strings.SplitN(call, "{", 2)[0]
		example := fmt.Sprintf("%s -> %s %.300q", shorten(call), code, e.Message)
		switch {
		case !apitest.ClientErrorCodes[code] || code == "SERVICE_UNAVAILABLE":
			h.add(fmt.Sprintf("%s: code %q for a client's value", field, code), example)
		case strings.TrimSpace(e.Message) == "":
			h.add(fmt.Sprintf("%s: %s with no message", field, code), example)
		case len(e.Message) > maxHostileMessage:
			h.add(fmt.Sprintf("%s: a message of more than %d bytes (a value echoed whole?)", field, maxHostileMessage), example)
		case internalDetail.MatchString(e.Message):
			h.add(fmt.Sprintf("%s: a message showing the server's insides", field), example)
		case wrongArticle.MatchString(e.Message):
			h.add(fmt.Sprintf("%s: a message naming %q", field, wrongArticle.FindString(e.Message)), example)
		default:
			if miscount := miscounted(e.Message, inputs); miscount != "" {
				h.add(fmt.Sprintf("%s: a message that %s", field, miscount), example)
			}
		}
	}
}

// wrongArticle is "a" before a type name that wants "an" ("a Area", "a ImportJob"): messages
// naming types build the article with scalar.A.
var wrongArticle = regexp.MustCompile(`\ba [AEIO][a-z]+`)

// messageCount is a count a message states: "has 21 characters", "got 160".
// (not a range: "has 3-50 characters")
var messageCount = regexp.MustCompile(`\b(?:has|got) (\d+)(?:[^\d-]|$)|(?:^|[^\d-])(\d+) characters`)

// miscounted says how a count in the message misstates an input's length: as its bytes (a
// person counts characters), or as what is left of it once cut short for cleaning.
func miscounted(msg string, inputs map[string]bool) string {
	for _, m := range messageCount.FindAllStringSubmatch(msg, -1) {
		k, _ := strconv.Atoi(m[1] + m[2])
		for in := range inputs {
			runes := utf8.RuneCountInString(in)
			switch {
			case len(in) != runes && k == len(in):
				return fmt.Sprintf("counts a value's %d bytes as its length (it has %d characters)", len(in), runes)
			case runes > qr.MaxInputLength && k == qr.MaxInputLength:
				return fmt.Sprintf("gives the length of a value of %d characters as %d, what is left once cut for cleaning", runes, k)
			}
		}
	}
	return ""
}

// maxHostileMessage bounds a message: one quoting a client's value quotes it cut short.
const maxHostileMessage = 600

func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// hostileWalk calls every root field of the operation type with each hostile variant, with
// a token from token() per call; each mutation twice at once.
func (f *isoFixture) hostileWalk(t *testing.T, op string, token func() string) {
	t.Helper()
	s := introspect(t, f.env, f.admin)
	sel := newSelector(s)
	var calls []walkCall
	for _, field := range s.rootFields(op) {
		vs, unfilled := s.oneAtATime(s.roots[op], field, f.hostileSource)
		for _, u := range unfilled {
			t.Errorf("the hostile walk has no values for %s: give its type values in hostileByType", u)
		}
		selection := sel.shallowSelection(field.Type.named(), 0, nil)
		for _, v := range vs {
			calls = append(calls, walkCall{field.Name + mustMarshal(v), s.operation(op, field, v, selection), token(), v})
		}
	}
	h := &hostileFailures{first: map[string]string{}, count: map[string]int{}, codes: map[string]int{}}
	copies := 1
	if op == "mutation" {
		copies = 2 // every mutation twice at once: a double scan, a retry racing its first try
	}
	f.run(t, op, calls, copies, func(cl walkCall, resp *apitest.Response) {
		checkHostileAnswer(h, cl.name, inputsOf(cl.vars), resp)
	})
	t.Logf("hostile %s walk: %d calls, answers by code: %v", op, len(calls), h.codes)
	h.fail(t)
}

// TestHostileArgumentWalk sends every hostile value to every argument of every query and
// mutation, as an admin (who reaches every resolver) and as a dispatcher (whose scope takes
// other paths), each mutation with a fresh token (logout and changePassword are walked too)
// and sent twice at once.
func TestHostileArgumentWalk(t *testing.T) {
	t.Parallel()
	f := newIsoFixture(t)
	adminID := f.adminID(t)
	for _, role := range []struct {
		name  string
		token func() string
	}{
		{"admin", func() string { return f.env.TokenFor(t, adminID) }},
		{"dispatcher", func() string { return f.env.TokenFor(t, f.jaipur.ID) }},
	} {
		t.Run(role.name, func(t *testing.T) {
			f.hostileWalk(t, "query", role.token)
			f.hostileWalk(t, "mutation", role.token)
		})
	}
}

func (f *isoFixture) adminID(t *testing.T) int64 {
	t.Helper()
	var got struct{ Me struct{ ID string } }
	f.env.MustDo(t, f.admin, `{ me { id } }`, nil, &got)
	id, err := gid.Decode(gid.User, got.Me.ID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
