package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// httpClient sends the generator's requests over HTTP/1.1 keep-alive connections of its own,
// one per virtual user (a user has one request in flight at a time). The generator shares
// the two cores with the server it measures: net/http's transport hands every request to a
// connection's writer and reader goroutines and back (two goroutine switches and a select a
// request, a header map each way), which cost the generator about as much as decoding the
// answers. The requests are the ones net/http sends, header for header, so the server does
// the same work.
type httpClient struct {
	timeout time.Duration
	dialer  net.Dialer
}

func newHTTPClient(timeout time.Duration) *httpClient {
	return &httpClient{timeout: timeout, dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}}
}

// endpoint is a parsed -url: where to dial and what the request line and Host name.
type endpoint struct {
	addr, host, path string
}

func parseEndpoint(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return endpoint{}, fmt.Errorf("%q: only http:// URLs are supported", raw)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return endpoint{addr: addr, host: u.Host, path: u.RequestURI()}, nil
}

func parseEndpoints(urls []string) ([]endpoint, error) {
	eps := make([]endpoint, len(urls))
	for i, raw := range urls {
		var err error
		if eps[i], err = parseEndpoint(raw); err != nil {
			return nil, err
		}
	}
	return eps, nil
}

func validEndpoints(urls []string) error {
	_, err := parseEndpoints(urls)
	return err
}

// httpConn is one keep-alive connection.
type httpConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	head []byte // the request head, reused
}

// errNoResponse: a reused connection ended before any byte of the answer, as the server
// does with an idle connection it closes; the request is sent again on a new connection,
// as net/http's transport does (errServerClosedIdle).
var errNoResponse = errors.New("connection closed before the response")

// post sends body to the endpoint and reads the answer into out (reset first); it returns
// the status code. ctx ending cuts the request.
func (c *client) post(ctx context.Context, body []byte, out *bytes.Buffer) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			conn, err := c.http.dialer.DialContext(ctx, "tcp", c.ep.addr)
			if err != nil {
				return 0, err
			}
			c.conn = &httpConn{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), w: bufio.NewWriterSize(conn, 4<<10)}
		}
		status, keep, err := c.roundTrip(ctx, body, out)
		if err != nil || !keep {
			c.conn.conn.Close()
			c.conn = nil
		}
		if errors.Is(err, errNoResponse) && reused && attempt == 0 && ctx.Err() == nil {
			continue
		}
		if err != nil && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return status, err
	}
}

// roundTrip writes the request and reads the response on c.conn; keep says the connection
// may carry the next request.
func (c *client) roundTrip(ctx context.Context, body []byte, out *bytes.Buffer) (status int, keep bool, err error) {
	hc := c.conn
	var deadline time.Time // none without a timeout, and none left from a cut request
	if c.http.timeout > 0 {
		deadline = time.Now().Add(c.http.timeout)
	}
	_ = hc.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = hc.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	h := append(hc.head[:0], "POST "...)
	h = append(h, c.ep.path...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, c.ep.host...)
	h = append(h, "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: "...)
	h = strconv.AppendInt(h, int64(len(body)), 10)
	if c.token != "" {
		h = append(h, "\r\nAuthorization: Bearer "...)
		h = append(h, c.token...)
	}
	h = append(h, "\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n"...)
	hc.head = h
	if _, err := hc.w.Write(h); err != nil {
		return 0, false, err
	}
	if _, err := hc.w.Write(body); err != nil {
		return 0, false, err
	}
	if err := hc.w.Flush(); err != nil {
		return 0, false, err
	}
	return readResponse(hc.r, out)
}

// readResponse reads one HTTP/1.1 response: its status, the headers that frame the body
// (Content-Length, chunked Transfer-Encoding, Connection: close), and the body into out.
func readResponse(r *bufio.Reader, out *bytes.Buffer) (status int, keep bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
			return 0, false, errNoResponse
		}
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	keep = line[7] == '1'
	length, chunked := int64(-1), false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("malformed header %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			keep = keep && !asciiEqualFold(value, "close")
		}
	}
	out.Reset()
	switch {
	case chunked:
		if _, err = out.ReadFrom(httputil.NewChunkedReader(r)); err == nil {
			err = skipTrailer(r)
		}
	case length >= 0:
		_, err = out.ReadFrom(io.LimitReader(r, length))
		if err == nil && int64(out.Len()) < length {
			err = io.ErrUnexpectedEOF
		}
	default: // the body runs to the end of the connection
		keep = false
		_, err = out.ReadFrom(r)
	}
	return status, keep, err
}

// skipTrailer reads what follows a chunked body's last chunk: trailer lines up to an empty one.
func skipTrailer(r *bufio.Reader) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
