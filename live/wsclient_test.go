package live_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tracetrack/internal/apitest"
)

// Websocket sub-protocols: the legacy one of subscriptions-transport-ws (older Apollo
// clients) and graphql-transport-ws (the graphql-ws library).
const (
	legacyProtocol    = "graphql-ws"
	transportProtocol = "graphql-transport-ws"
)

// legacyClient speaks the legacy graphql-ws protocol over a gorilla websocket, as older
// Apollo clients do, or graphql-transport-ws when dialed with dialProtocol.
type legacyClient struct {
	t        testing.TB
	conn     *websocket.Conn
	protocol string
	// held are messages read while waiting for another subscription's.
	held []wsMessage
	// frames is every text frame the server sent, keep-alives included.
	frames []string
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialLegacy opens a socket and sends connection_init with the payload (nil: none).
func dialLegacy(t testing.TB, env *apitest.Env, header http.Header, initPayload any) *legacyClient {
	t.Helper()
	return dialProtocol(t, env, legacyProtocol, header, initPayload)
}

// dialProtocol opens a socket speaking the sub-protocol and sends connection_init.
func dialProtocol(t testing.TB, env *apitest.Env, protocol string, header http.Header, initPayload any) *legacyClient {
	t.Helper()
	return dialWith(t, env, websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}, header, initPayload)
}

// dialWith opens a socket with the dialer (its first sub-protocol) and sends connection_init.
func dialWith(t testing.TB, env *apitest.Env, dialer websocket.Dialer, header http.Header, initPayload any) *legacyClient {
	t.Helper()
	protocol := dialer.Subprotocols[0]
	conn, resp, err := dialer.Dial(wsURL(env), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	c := &legacyClient{t: t, conn: conn, protocol: protocol}
	t.Cleanup(func() { conn.Close() })
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(initPayload)})
	return c
}

// connectLegacy dials and waits for connection_ack.
func connectLegacy(t testing.TB, env *apitest.Env, token string) *legacyClient {
	t.Helper()
	return connectProtocol(t, env, legacyProtocol, token)
}

// connectProtocol dials with the sub-protocol and waits for connection_ack.
func connectProtocol(t testing.TB, env *apitest.Env, protocol, token string) *legacyClient {
	t.Helper()
	c := dialProtocol(t, env, protocol, nil, map[string]string{"Authorization": "Bearer " + token})
	if m := c.next(); m.Type != "connection_ack" {
		t.Fatalf("got %s %s, want connection_ack", m.Type, m.Payload)
	}
	return c
}

func wsURL(env *apitest.Env) string {
	return "ws" + strings.TrimPrefix(env.URL, "http")
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	raw, _ := json.Marshal(v)
	return raw
}

func (c *legacyClient) send(m wsMessage) {
	c.t.Helper()
	if err := c.conn.WriteJSON(m); err != nil {
		c.t.Fatalf("write %s: %v", m.Type, err)
	}
}

func (c *legacyClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	kind := "start"
	if c.protocol == transportProtocol {
		kind = "subscribe"
	}
	c.send(wsMessage{ID: id, Type: kind, Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
}

func (c *legacyClient) stop(id string) {
	c.t.Helper()
	kind := "stop"
	if c.protocol == transportProtocol {
		kind = "complete"
	}
	c.send(wsMessage{ID: id, Type: kind})
}

// isResult: m carries a result (data and errors) of an operation.
func (c *legacyClient) isResult(m wsMessage) bool {
	return m.Type == "data" || m.Type == "next"
}

// next returns the next message other than keep-alives, failing after 10 s.
func (c *legacyClient) next() wsMessage {
	c.t.Helper()
	m, err := c.read(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// read returns the next message other than keep-alives, answering the server's pings.
func (c *legacyClient) read(timeout time.Duration) (wsMessage, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		var m wsMessage
		_, raw, err := c.conn.ReadMessage()
		if err != nil {
			return m, err
		}
		c.frames = append(c.frames, string(raw))
		if err := json.Unmarshal(raw, &m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ka", "pong":
		case "ping":
			if err := c.conn.WriteJSON(wsMessage{Type: "pong"}); err != nil {
				return m, err
			}
		default:
			return m, nil
		}
	}
}

// scanEvent is the part of a scanAdded event the tests read.
type scanEvent struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	BagQR string `json:"bagQr"`
	Area  *struct {
		Code string `json:"code"`
	} `json:"area"`
}

// nextFor returns the next message of subscription id, holding back the others'.
func (c *legacyClient) nextFor(id string) wsMessage {
	c.t.Helper()
	for i, m := range c.held {
		if m.ID == id {
			c.held = append(c.held[:i], c.held[i+1:]...)
			return m
		}
	}
	for {
		m := c.next()
		if m.ID == id {
			return m
		}
		c.held = append(c.held, m)
	}
}

// nextScan reads the next data message of subscription id and returns its scan.
func (c *legacyClient) nextScan(id string) scanEvent {
	c.t.Helper()
	m := c.nextFor(id)
	if !c.isResult(m) {
		c.t.Fatalf("got %s (id %q) %s, want data for %s", m.Type, m.ID, m.Payload, id)
	}
	var p struct {
		Data struct {
			ScanAdded scanEvent `json:"scanAdded"`
		} `json:"data"`
		Errors []apitest.Error `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		c.t.Fatalf("bad scan event %s: %v", m.Payload, err)
	}
	return p.Data.ScanAdded
}

// closeCode waits for the server to close the socket and returns the code and reason.
func (c *legacyClient) closeCode() (int, string) {
	c.t.Helper()
	for {
		_, err := c.read(10 * time.Second)
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, ce.Text
		}
		c.t.Fatalf("socket ended without a close frame: %v", err)
	}
}
