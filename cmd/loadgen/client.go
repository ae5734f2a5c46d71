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
	"time"
)

// newTransport returns the one transport every virtual user shares, with enough idle
// connections per host that a closed loop of users never waits for a new TCP handshake.
func newTransport(users int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        users + 64,
		MaxIdleConnsPerHost: users + 64,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
}

// client sends GraphQL requests for one virtual user.
type client struct {
	http  *http.Client
	url   string
	token string
	buf   bytes.Buffer // request body, reused between requests of this user
	body  bytes.Buffer // response body, reused likewise
}

// gqlRequest is the body of a GraphQL POST.
type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// gqlResponse keeps data raw so each operation decodes only the fields it needs.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
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
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.buf.Bytes()))
	if err != nil {
		return &requestError{Code: "CLIENT", Message: err.Error()}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return transportError(err)
	}
	defer resp.Body.Close()
	c.body.Reset()
	if _, err := c.body.ReadFrom(resp.Body); err != nil {
		return transportError(err)
	}
	var gr gqlResponse
	if err := json.Unmarshal(c.body.Bytes(), &gr); err != nil {
		return &requestError{Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Message: truncate(c.body.String())}
	}
	if len(gr.Errors) > 0 {
		return asRequestError(gr.Errors)
	}
	if resp.StatusCode != http.StatusOK {
		return &requestError{Code: fmt.Sprintf("HTTP_%d", resp.StatusCode), Message: truncate(c.body.String())}
	}
	if out != nil {
		if err := json.Unmarshal(gr.Data, out); err != nil {
			return &requestError{Code: "DECODE", Message: err.Error()}
		}
	}
	return nil
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
