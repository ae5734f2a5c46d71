package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// Request decoding: every GraphQL request (a POST body, a GET's URL parameters, a
// websocket's subscribe payload) is checked for its shape here, before gqlgen's transports
// read it, so that a malformed one is answered BAD_USER_INPUT saying what is wrong and what
// is accepted instead of gqlgen's uncoded "could not be decoded".

const requestExample = `{"query": "query($qr: String!) { bag(qr: $qr) { id } }", "variables": {"qr": "SB00860"}}`

// decodeRequest reads one GraphQL request from JSON: an object whose query and
// operationName are strings and whose variables and extensions are objects, each optional
// and each may be null. Other members are ignored, as GraphQL over HTTP allows.
func decodeRequest(body []byte) (*graphql.RawParams, error) {
	if !utf8.Valid(body) {
		return nil, badRequest("the request is not UTF-8 text; send JSON encoded as UTF-8")
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, badRequest("the request is empty; send a JSON object such as %s", requestExample)
	case trimmed[0] == '[':
		return nil, badRequest("batched requests (a JSON array) are not supported; send one operation per request as a JSON object such as %s", requestExample)
	case trimmed[0] != '{':
		return nil, badRequest("the request must be a JSON object such as %s", requestExample)
	}
	// One decoding of the whole body (gqlgen decodes it once more); the members are then
	// only type-checked.
	v, err := decodeJSON(trimmed, "the request")
	if err != nil {
		return nil, badRequest("%s; send a JSON object such as %s", err.Error(), requestExample)
	}
	members := v.(map[string]any) // trimmed starts with '{' and is one valid JSON value
	params := &graphql.RawParams{}
	if params.Query, err = stringMember(members, "query", "the GraphQL document, such as \"{ me { id } }\""); err != nil {
		return nil, err
	}
	if params.OperationName, err = stringMember(members, "operationName", "the name of the operation to run"); err != nil {
		return nil, err
	}
	if params.Variables, err = objectValue(members["variables"], "variables", variablesExample); err != nil {
		return nil, err
	}
	if params.Extensions, err = objectValue(members["extensions"], "extensions", extensionsExample); err != nil {
		return nil, err
	}
	return params, nil
}

func stringMember(members map[string]any, name, what string) (string, error) {
	switch v := members[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", badRequest("%q must be a string holding %s, got %s", name, what, scalar.Describe(v))
	}
}

// objectParam decodes a GET parameter (source names it) that must be a JSON object or null.
func objectParam(raw []byte, name, source, example string) (map[string]any, error) {
	v, err := decodeJSON(raw, source)
	if err != nil {
		return nil, err
	}
	return objectValue(v, name, example)
}

// objectValue is a decoded member that must be a JSON object or null.
func objectValue(v any, name, example string) (map[string]any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	}
	return nil, badRequest("%q must be a JSON object such as %s, got %s", name, example, scalar.Describe(v))
}

// decodeJSON decodes one JSON value as gqlgen does (numbers as json.Number, so large
// integers keep their digits); an empty raw value is null. source names the text in a
// message ("the request", "the variables parameter").
func decodeJSON(raw []byte, source string) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("%s is not valid JSON (%s)", source, jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF { // More() misses a stray } or ]
		return nil, badRequest("%s is not valid JSON (more than one value)", source)
	}
	return v, nil
}

// jsonProblem says what encoding/json found wrong, and where.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("%s at byte %d", syntax.Error(), syntax.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it ends too early"
	}
	return err.Error()
}

func badRequest(format string, args ...any) *apperr.Error {
	return apperr.New(apperr.BadUserInput, format, args...)
}

const (
	variablesExample  = `{"qr": "SB00860"}`
	extensionsExample = `{"persistedQuery": {"version": 1, "sha256Hash": "<SHA-256 of the query>"}}`
)

// checkURLRequest checks a GET request's parameters: query and operationName as text,
// variables and extensions as URL-encoded JSON objects.
func checkURLRequest(rawQuery string) error {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return badRequest("the URL's query string is malformed (%v); URL-encode the query, variables and extensions parameters", err)
	}
	for _, name := range []string{"query", "operationName", "variables", "extensions"} {
		if v := values.Get(name); !utf8.ValidString(v) {
			return badRequest("the %s parameter is not UTF-8 text once URL-decoded", name)
		}
	}
	if _, err := objectParam([]byte(values.Get("variables")), "variables", "the variables parameter", variablesExample); err != nil {
		return err
	}
	_, err = objectParam([]byte(values.Get("extensions")), "extensions", "the extensions parameter", extensionsExample)
	return err
}

// checkRequests answers malformed GraphQL requests before gqlgen reads them: POST bodies
// that are not one GraphQL request, GET parameters that are not, and methods and upgrades
// GraphQL is not served on. Websocket upgrades pass: their messages are checked one by one
// (screenClientMessage).
func checkRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		if err := checkRequest(r); err != nil {
			if r.Method != http.MethodGet && r.Method != http.MethodPost {
				w.Header().Set("Allow", "GET, POST, OPTIONS")
			}
			writeGraphQLError(w, r, logger, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), httpMethodKey{}, r.Method)))
	})
}

func checkRequest(r *http.Request) error {
	if upgrade := r.Header.Get("Upgrade"); upgrade != "" {
		return badRequest("Upgrade: %s is not served here; open websockets with Upgrade: websocket", upgrade)
	}
	switch r.Method {
	case http.MethodPost:
		if read, ok := r.Body.(*readBody); ok { // checkBody read it
			_, err := decodeRequest(read.bytes)
			return err
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return badRequest("the request body could not be read; send it again")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, err = decodeRequest(body)
		return err
	case http.MethodGet:
		return checkURLRequest(r.URL.RawQuery)
	case http.MethodOptions:
		return nil
	}
	return apperr.New(apperr.BadUserInput, "GraphQL is served over POST (and GET for queries), not %s", r.Method).
		WithStatus(http.StatusMethodNotAllowed)
}

// httpMethodKey holds the method of a plain HTTP request (absent on websockets).
type httpMethodKey struct{}

// operationsByTransport refuses, with a coded error instead of gqlgen's uncoded 406 or a bare
// `null`, the operations a transport does not serve: a subscription over plain HTTP (gqlgen's
// POST answers it with its first event, or null when none is ready) and a mutation sent with
// GET (a link or an image tag must not change anything).
type operationsByTransport struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationsByTransport{}

func (operationsByTransport) ExtensionName() string                   { return "OperationsByTransport" }
func (operationsByTransport) Validate(graphql.ExecutableSchema) error { return nil }

func (operationsByTransport) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	method, overHTTP := ctx.Value(httpMethodKey{}).(string)
	if !overHTTP || opCtx.Operation == nil || opCtx.Operation.Operation == ast.Query {
		return nil
	}
	if opCtx.Operation.Operation == ast.Subscription {
		return requestError(apperr.New(apperr.BadUserInput,
			"a subscription is served over a websocket on this path (graphql-transport-ws, as the graphql-ws client speaks it, or the legacy graphql-ws), not over %s", method))
	}
	if method != http.MethodGet {
		return nil
	}
	return requestError(apperr.New(apperr.BadUserInput,
		"a %s cannot be sent with GET; send it as POST with Content-Type: application/json", opCtx.Operation.Operation))
}

// requestError is a refused request as gqlgen's executor returns it: the coded error inside,
// marked as a validation failure so transports answer it as a refused request (HTTP 422, a
// websocket error message) rather than as a field error.
func requestError(err *apperr.Error) *gqlerror.Error {
	gqlErr := &gqlerror.Error{Message: err.Message, Err: err}
	errcode.Set(gqlErr, errcode.ValidationFailed)
	return gqlErr
}
