// Package apitest runs the real TraceTrack HTTP handler (app.New) on an httptest server over a
// fresh database, and talks to it as clients do: GraphQL over HTTP with bearer tokens.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tracetrack/app"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/internal/testdb"
	"tracetrack/resolvers"
)

// Password is the password of every user NewUser creates.
const Password = "Test#Pass1"

// Env is a running server over its own database.
type Env struct {
	// URL is the GraphQL endpoint.
	URL         string
	Server      *httptest.Server
	Store       *db.Store
	DatabaseURL string
	Hasher      *auth.Hasher
	Options     app.Options
	App         *app.App
}

// DefaultOptions are the options New starts from: the production defaults of SPEC.md, with
// the cheapest bcrypt cost so tests stay fast.
func DefaultOptions() app.Options {
	return app.Options{
		Hasher: auth.NewHasher(bcrypt.MinCost, 2),
		Resolvers: resolvers.Config{
			TokenTTL:          12 * time.Hour,
			ChildrenPerParent: 30,
			KgPerChild:        1,
			BusinessTimeZone:  mustLocation("Asia/Kolkata"),
		},
		Introspection: true,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// New starts a server over a fresh database. configure may change the options first.
func New(t testing.TB, configure ...func(*app.Options)) *Env {
	t.Helper()
	return NewOn(t, testdb.New(t), configure...)
}

// NewOn starts a server over an existing, migrated database (a second instance, say).
func NewOn(t testing.TB, databaseURL string, configure ...func(*app.Options)) *Env {
	t.Helper()
	store, err := db.Open(context.Background(), databaseURL, 20)
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	opts := DefaultOptions()
	opts.Store = store
	opts.Live.DatabaseURL = databaseURL
	for _, c := range configure {
		c(&opts)
	}
	a := app.New(opts)
	server := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		server.Close()
		store.Close()
	})
	return &Env{URL: server.URL + "/graphql", Server: server, Store: store, DatabaseURL: databaseURL,
		Hasher: opts.Hasher, Options: opts, App: a}
}

// NewUser creates an active user with a unique username and the role (and area code for a
// dispatcher), and returns it with a fresh bearer token.
func (e *Env) NewUser(t testing.TB, role db.Role, areaCode string) (*db.User, string) {
	t.Helper()
	ctx := context.Background()
	hash, err := e.Hasher.Hash(ctx, Password)
	if err != nil {
		t.Fatal(err)
	}
	nu := db.NewUser{Username: "u_" + randomHex(6), PasswordHash: hash, Role: role}
	if areaCode != "" {
		area, err := e.Store.AreaByCode(ctx, areaCode)
		if err != nil {
			t.Fatal(err)
		}
		nu.AreaID = &area.ID
	}
	user, err := e.Store.CreateUser(ctx, db.System, nu)
	if err != nil {
		t.Fatalf("apitest: create user: %v", err)
	}
	return user, e.TokenFor(t, user.ID)
}

// TokenFor issues a fresh bearer token for the user.
func (e *Env) TokenFor(t testing.TB, userID int64) string {
	t.Helper()
	token, hash := auth.NewToken()
	if _, err := e.Store.CreateToken(context.Background(), userID, hash, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return token
}

// Response is a GraphQL response.
type Response struct {
	Status     int
	Data       json.RawMessage `json:"data"`
	Errors     []Error         `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns the code of the first error, or "" when there is none.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code
}

// Decode unmarshals data into v, failing the test if the response has errors.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// Do posts a GraphQL request with the token (none when empty) and returns the response.
func (e *Env) Do(t testing.TB, token, query string, variables map[string]any) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	return e.Post(t, token, "application/json", body)
}

// DoRaw posts a request body given as a map (for extensions such as persisted queries).
func (e *Env) DoRaw(t testing.TB, token string, body map[string]any) *Response {
	t.Helper()
	raw, _ := json.Marshal(body)
	return e.Post(t, token, "application/json", raw)
}

// Post sends a raw body to the GraphQL endpoint.
func (e *Env) Post(t testing.TB, token, contentType string, body []byte) *Response {
	t.Helper()
	resp, err := e.post(token, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// Get sends a GET with the token (none when empty) to a path of the server, such as a CSV
// export, and returns the status and the body.
func (e *Env) Get(t testing.TB, token, path string) (int, string) {
	t.Helper()
	status, _, body := e.Send(t, http.MethodGet, token, path, "", nil)
	return status, body
}

// Send sends a request with the token (none when empty) and, when contentType is given, the
// body to a path of the server, as a client other than GraphQL does (an upload, a download),
// and returns the status, the response's headers and its body.
func (e *Env) Send(t testing.TB, method, token, path, contentType string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.Server.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(answer)
}

// DoNoT is Do for goroutines other than the test's: a transport failure comes back as an
// error in the response instead of failing the test.
func (e *Env) DoNoT(token, query string, variables map[string]any) *Response {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	resp, err := e.post(token, "application/json", body)
	if err != nil {
		return &Response{Errors: []Error{{Message: err.Error(), Extensions: map[string]any{"code": "TRANSPORT"}}}}
	}
	return resp
}

// DecodeNoT unmarshals data into v, or returns the first GraphQL error.
func (r *Response) DecodeNoT(v any) error {
	if len(r.Errors) > 0 {
		return fmt.Errorf("%s: %s", r.Code(), r.Errors[0].Message)
	}
	return json.Unmarshal(r.Data, v)
}

func (e *Env) post(token, contentType string, body []byte) (*Response, error) {
	req, err := http.NewRequest(http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", e.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("response is not JSON (status %d): %s", resp.StatusCode, raw)
	}
	return out, nil
}

// ClientErrorCodes are the extensions.code values of the contract (schema.graphqls) that a
// client's request may be answered with; INTERNAL_SERVER_ERROR is left out on purpose: bad
// input must never look like a server fault.
var ClientErrorCodes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "BAD_USER_INPUT": true, "NOT_FOUND": true,
	"CONFLICT": true, "ACCOUNT_LOCKED": true, "RATE_LIMITED": true, "QUERY_TOO_COMPLEX": true,
	"SERVICE_UNAVAILABLE": true,
}

// SyncBuffer collects the log lines of a server running in other goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustDo is Do that fails the test on any GraphQL error and decodes data into v.
func (e *Env) MustDo(t testing.TB, token, query string, variables map[string]any, v any) {
	t.Helper()
	e.Do(t, token, query, variables).Decode(t, v)
}

func randomHex(n int) string {
	raw := make([]byte, n)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}
