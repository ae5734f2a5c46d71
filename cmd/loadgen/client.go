package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// client sends GraphQL requests for one virtual user, one at a time, on its own connection.
type client struct {
	http  *httpClient
	ep    endpoint
	conn  *httpConn // nil until the first request, and after the connection failed or closed
	token string
	buf   bytes.Buffer // request body, reused between requests of this user
	body  bytes.Buffer // response body, reused likewise
}

func newClient(hc *httpClient, ep endpoint) *client { return &client{http: hc, ep: ep} }

// close drops the connection.
func (c *client) close() {
	if c.conn != nil {
		c.conn.conn.Close()
		c.conn = nil
	}
}

// gqlRequest is the body of a GraphQL POST.
type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// gqlResponse is decoded in one pass: Data holds the caller's pointer (a small struct of the
// fields the operation needs), so data is decoded into it directly.
type gqlResponse struct {
	Data   any        `json:"data"`
	Errors []gqlError `json:"errors"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// asRequestError turns the first GraphQL error into a requestError.
func asRequestError(errs []gqlError) *requestError {
	code := errs[0].Extensions.Code
	if code == "" {
		code = "UNKNOWN"
	}
	return &requestError{Code: code, Message: errs[0].Message}
}

// requestError is a failed request, with the code the report groups it by.
type requestError struct {
	Code    string
	Message string
}

func (e *requestError) Error() string { return e.Code + ": " + e.Message }

// codeOf returns the report code of err ("" for nil).
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var re *requestError
	if errors.As(err, &re) {
		return re.Code
	}
	return "CLIENT"
}

// do sends one GraphQL request; when out is non-nil it receives data. A GraphQL error, a
// non-200 status or a transport failure comes back as a *requestError.
func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	c.buf.Reset()
	if err := json.NewEncoder(&c.buf).Encode(gqlRequest{Query: query, Variables: vars}); err != nil {
		return &requestError{Code: "CLIENT", Message: err.Error()}
	}
	status, err := c.post(ctx, c.buf.Bytes(), &c.body)
	if err != nil {
		return transportError(err)
	}
	body := c.body.Bytes()
	if out == nil && status == http.StatusOK && plainData(body) {
		return nil
	}
	gr := gqlResponse{Data: out}
	err = json.Unmarshal(body, &gr)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || err != nil && out == nil {
		return &requestError{Code: fmt.Sprintf("HTTP_%d", status), Message: truncate(c.body.String())}
	}
	if len(gr.Errors) > 0 {
		return asRequestError(gr.Errors)
	}
	if status != http.StatusOK {
		return &requestError{Code: fmt.Sprintf("HTTP_%d", status), Message: truncate(c.body.String())}
	}
	if err != nil {
		return &requestError{Code: "DECODE", Message: err.Error()}
	}
	return nil
}

// plainData: the body is a response with data and no errors, `{"data":...}`, which needs no
// decoding when the caller wants nothing of it. An unescaped `"errors":` in a JSON text can
// only be an object's key (a string's quotes are escaped inside strings), so a response with
// errors, or anything else, is decoded and judged as before. A body cut short fails its
// framing (Content-Length, the chunks) before this.
func plainData(body []byte) bool {
	return bytes.HasPrefix(body, []byte(`{"data":`)) && bytes.HasSuffix(bytes.TrimRight(body, "\n"), []byte("}")) &&
		!bytes.Contains(body, []byte(`"errors":`))
}

func transportError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return &requestError{Code: "CANCELED", Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &requestError{Code: "TIMEOUT", Message: err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &requestError{Code: "CONNECTION_CLOSED", Message: err.Error()}
	}
	return &requestError{Code: "NETWORK", Message: err.Error()}
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// login signs in and keeps the token for the following requests.
func (c *client) login(ctx context.Context, username, password string) (role string, err error) {
	var out struct {
		Login struct {
			Token string `json:"token"`
			User  struct {
				Role string `json:"role"`
			} `json:"user"`
		} `json:"login"`
	}
	err = c.do(ctx, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token user { role } } }`,
		map[string]any{"u": username, "p": password}, &out)
	if err != nil {
		return "", err
	}
	c.token = out.Login.Token
	return out.Login.User.Role, nil
}
