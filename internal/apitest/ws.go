package apitest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Socket is a graphql-transport-ws client over a gorilla websocket, as the graphql-ws npm
// client speaks it.
type Socket struct {
	t    testing.TB
	conn *websocket.Conn
}

// SocketMessage is one message of the protocol.
type SocketMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Connect opens a socket to the GraphQL endpoint, sends connection_init with the bearer token
// and waits for connection_ack.
func (e *Env) Connect(t testing.TB, token string) *Socket {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(e.URL, "http"), nil)
	if err != nil {
		t.Fatalf("apitest: dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &Socket{t: t, conn: conn}
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	s.Send(SocketMessage{Type: "connection_init", Payload: init})
	if m, err := s.Read(10 * time.Second); err != nil || m.Type != "connection_ack" {
		t.Fatalf("apitest: connection_init: got %+v (%v), want connection_ack", m, err)
	}
	return s
}

// Send writes one message.
func (s *Socket) Send(m SocketMessage) {
	s.t.Helper()
	if err := s.conn.WriteJSON(m); err != nil {
		s.t.Fatalf("apitest: write %s: %v", m.Type, err)
	}
}

// Subscribe starts the subscription id.
func (s *Socket) Subscribe(id, query string, variables map[string]any) {
	s.t.Helper()
	payload, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	s.Send(SocketMessage{ID: id, Type: "subscribe", Payload: payload})
}

// Read returns the next message other than ping/pong, or the read error (a timeout included).
func (s *Socket) Read(timeout time.Duration) (SocketMessage, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		var m SocketMessage
		if err := s.conn.ReadJSON(&m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			_ = s.conn.WriteJSON(SocketMessage{Type: "pong"})
		case "pong":
		default:
			return m, nil
		}
	}
}

// Close closes the socket; a Read in progress returns an error.
func (s *Socket) Close() {
	_ = s.conn.Close()
}
