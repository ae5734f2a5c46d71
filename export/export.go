// Package export serves the downloads GET /export/{bills,bags,scans}.{csv,xlsx} and the
// EPCIS 2.0 document GET /export/epcis.jsonld. They
// take the GraphQL lists' filters as query parameters, use the lists' own store filters and
// area scope, and stream row by row (the store reads keyset batches and hands one row at a
// time to a csv.Writer that is flushed every flushEvery rows), so an export of a million bags
// uses constant memory. A download is bounded at the edge (Limits): a client that takes nothing
// for WriteTimeout loses it, and a user runs at most PerUser exports at once.
package export

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/internal/commalist"
	"tracetrack/internal/scalar"
)

// flushEvery is how many rows are buffered before they are pushed to the client.
const flushEvery = 1000

// Handler serves the exports. The session middleware has put the caller into the context.
// Build it with New.
type Handler struct {
	Store   *db.Store
	Weights db.Weights
	// EPCIS configures /export/epcis.jsonld (zero fields: DefaultEPCISURIBase, UTC).
	EPCIS  EPCIS
	limits *running
}

// New returns the handler of the exports under the limits (zero fields: DefaultLimits').
func New(h Handler, limits Limits) *Handler {
	h.limits = newRunning(limits.withDefaults())
	if h.EPCIS.URIBase == "" {
		h.EPCIS.URIBase = DefaultEPCISURIBase
	}
	if h.EPCIS.Zone == nil {
		h.EPCIS.Zone = time.UTC
	}
	return &h
}

// refuse answers an error before any row, mapped as every error is (apperr.Present), with
// a plain-text reason.
func refuse(w http.ResponseWriter, r *http.Request, err error) {
	public := apperr.Present(r.Context(), nil, err)
	status, message := public.HTTPStatus(), public.Message
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(message + "\n"))
}

// caller returns the signed-in user or UNAUTHENTICATED.
func caller(r *http.Request) (*db.User, error) {
	return auth.Require(r.Context())
}

// params reads optional query parameters, remembering the first malformed one and the names
// read, so that done refuses the others: a misspelt filter (createdafter) exported every row.
type params struct {
	q    map[string][]string
	err  error
	read []string
}

// done returns the first malformed parameter, or one that is none of the names read, or one
// given twice (the second value was ignored).
func (p *params) done() error {
	if p.err != nil {
		return p.err
	}
	names := slices.Sorted(maps.Keys(p.q))
	for _, name := range names {
		if !slices.Contains(p.read, name) {
			return apperr.New(apperr.BadUserInput, "unknown parameter %s; this export takes %s",
				scalar.Quote(name), strings.Join(slices.Sorted(slices.Values(p.read)), ", "))
		}
		if len(p.q[name]) > 1 {
			return apperr.New(apperr.BadUserInput, "%s is given %d times; give it once", name, len(p.q[name]))
		}
	}
	return nil
}

func (p *params) str(name string) *string {
	p.read = append(p.read, name)
	v, ok := p.q[name]
	if !ok || len(v) == 0 || v[0] == "" {
		return nil
	}
	p.check(name, scalar.CheckText(v[0]))
	return &v[0]
}

// check remembers the first parameter a scalar rule refused.
func (p *params) check(name string, err error) {
	var invalid *scalar.Invalid
	if errors.As(err, &invalid) && p.err == nil {
		p.err = apperr.New(apperr.BadUserInput, "%s %s", name, invalid.Problem)
	}
}

func (p *params) time(name string) *time.Time {
	v := p.str(name)
	if v == nil {
		return nil
	}
	t, err := scalar.ParseTime(*v)
	p.check(name, err)
	return &t
}

func (p *params) bool(name string) *bool {
	v := p.str(name)
	if v == nil {
		return nil
	}
	b, err := strconv.ParseBool(*v)
	if err != nil && p.err == nil {
		p.err = apperr.New(apperr.BadUserInput, "%s must be true or false, got %q", name, *v)
	}
	return &b
}

// oneOf returns the parameter when it is one of the allowed values.
func (p *params) oneOf(name string, allowed ...string) *string {
	v := p.str(name)
	if v == nil {
		return nil
	}
	for _, a := range allowed {
		if *v == a {
			return v
		}
	}
	if p.err == nil {
		p.err = apperr.New(apperr.BadUserInput, "%s must be one of %v, got %q", name, allowed, *v)
	}
	return nil
}

// listOf returns the comma-separated values of the parameter, each one of the allowed values.
func (p *params) listOf(name string, allowed ...string) []string {
	v := p.str(name)
	if v == nil {
		return nil
	}
	var out []string
	for _, item := range commalist.Split(*v) {
		if !slices.Contains(allowed, item) {
			if p.err == nil {
				p.err = apperr.New(apperr.BadUserInput, "%s must be a comma-separated list of %v, got %q", name, allowed, item)
			}
			return nil
		}
		out = append(out, item)
	}
	return out
}

func formatTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func formatKg(kg float64) string {
	return strconv.FormatFloat(kg, 'f', -1, 64)
}
