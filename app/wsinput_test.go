package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"tracetrack/app"
	"tracetrack/db"
	"tracetrack/internal/apitest"
)

// wsMessage is a server message of either protocol, or the socket's close (Type "close").
type wsMessage struct {
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	Payload     json.RawMessage `json:"payload"`
	CloseCode   int             `json:"-"`
	CloseReason string          `json:"-"`
}

// dialGraphQL opens a websocket with the subprotocol and, unless init is nil, sends it as
// connection_init and waits for the ack.
func dialGraphQL(t *testing.T, env *apitest.Env, subprotocol string, init map[string]any) *websocket.Conn {
	t.Helper()
	conn := dialOffering(t, env, subprotocol)
	if init != nil {
		writeWS(t, conn, init)
		if m := readWS(t, conn, "connection_ack"); m.Type != "connection_ack" {
			t.Fatalf("connection_init answered %+v", m)
		}
	}
	return conn
}

// dialOffering opens a websocket offering the subprotocols (none when empty).
func dialOffering(t *testing.T, env *apitest.Env, subprotocols ...string) *websocket.Conn {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: subprotocols, HandshakeTimeout: 5 * time.Second}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(env.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// writeWS sends msg as JSON, or as is when it is a string.
func writeWS(t *testing.T, conn *websocket.Conn, msg any) {
	t.Helper()
	raw, ok := msg.(string)
	if !ok {
		b, _ := json.Marshal(msg)
		raw = string(b)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// readWS returns the next message of one of the types, skipping keep-alives and answering
// pings, or the close of the socket.
func readWS(t *testing.T, conn *websocket.Conn, types ...string) wsMessage {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, raw, err := conn.ReadMessage()
		var closeErr *websocket.CloseError
		if errors.As(err, &closeErr) {
			return wsMessage{Type: "close", CloseCode: closeErr.Code, CloseReason: closeErr.Text}
		}
		if err != nil {
			t.Fatalf("reading the socket: %v", err)
		}
		var m wsMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("server sent %s", raw)
		}
		for _, want := range types {
			if m.Type == want {
				return m
			}
		}
		if m.Type == "ping" {
			writeWS(t, conn, map[string]any{"type": "pong"})
		}
	}
}

// operationError returns the code and message of the first error of an error message
// (payload: a list of errors) or a result carrying errors.
func operationError(t *testing.T, m wsMessage) (string, string) {
	t.Helper()
	var list []apitest.Error
	if err := json.Unmarshal(m.Payload, &list); err != nil {
		var result apitest.Response
		_ = json.Unmarshal(m.Payload, &result)
		list = result.Errors
	}
	if len(list) == 0 {
		t.Fatalf("%s message without an error: %s", m.Type, m.Payload)
	}
	code, _ := list[0].Extensions["code"].(string)
	return code, list[0].Message
}

// protocols are the two websocket subprotocols, with their message names.
var protocols = []struct{ name, subscribe, result string }{
	{"graphql-transport-ws", "subscribe", "next"},
	{"graphql-ws", "start", "data"},
}

// TestWebsocketBadPayloadsAreBadUserInput subscribes with every bad shape of payload: each is
// answered for its id with BAD_USER_INPUT saying what is wrong, and the socket stays open for
// the next one.
func TestWebsocketBadPayloadsAreBadUserInput(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	payloads := []struct {
		name    string
		payload any
		want    string
	}{
		{"query is a number", map[string]any{"query": 123}, `"query" must be a string`},
		{"variables is a list", map[string]any{"query": "subscription { statsUpdated { bills } }", "variables": []int{1}}, `"variables" must be a JSON object`},
		{"payload is a string", "subscription { statsUpdated { bills } }", "must be a JSON object"},
		{"no payload", nil, "empty"},
		{"a NUL in a variable", map[string]any{"query": "subscription($a: String) { statsUpdated(areaCode: $a) { bills } }", "variables": map[string]any{"a": "jaipur\x00"}}, "areaCode must not contain the NUL character"},
		{"an id that does not decode", map[string]any{"query": `subscription { scanAdded(after: "zzz") { id } }`}, "is not an id this server gave out"},
		{"a persisted query hash that does not match", map[string]any{"query": "subscription { statsUpdated { bills } }", "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha("other")}}}, "is not the SHA-256 of the query"},
		{"a syntax error", map[string]any{"query": "subscription { statsUpdated { bills }"}, "not valid GraphQL"},
		{"an unknown enum value", map[string]any{"query": "subscription { scanAdded(kinds: [TELEPORTED]) { id } }"}, `"TELEPORTED" does not exist`},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			conn := dialGraphQL(t, env, p.name, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
			for i, tc := range payloads {
				id := string(rune('a' + i))
				msg := map[string]any{"type": p.subscribe, "id": id}
				if tc.payload != nil {
					msg["payload"] = tc.payload
				}
				writeWS(t, conn, msg)
				m := readWS(t, conn, "error", p.result)
				if m.Type == "close" {
					t.Fatalf("%s: the socket closed (%d %q); want an error for id %s", tc.name, m.CloseCode, m.CloseReason, id)
				}
				code, message := operationError(t, m)
				if m.ID != id || code != "BAD_USER_INPUT" || !strings.Contains(message, tc.want) {
					t.Errorf("%s: id %q code %q message %q; want id %s BAD_USER_INPUT saying %q", tc.name, m.ID, code, message, id, tc.want)
				}
			}
		})
	}
}

// TestWebsocketProtocolBreaksClose4400 sends messages no protocol defines: each closes the
// socket with 4400 and a reason saying what is wrong, before and after connection_init.
func TestWebsocketProtocolBreaksClose4400(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	_, token := env.NewUser(t, db.RoleAdmin, "")
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}
	messages := []struct {
		name      string
		afterInit bool
		message   any
		want      string
	}{
		{"not JSON", true, "hello", "send JSON objects"},
		{"a JSON list", true, `[{"type": "ping"}]`, "send JSON objects"},
		{"no type", true, map[string]any{"id": "1"}, "send JSON objects"},
		{"not UTF-8", true, "{\"type\": \"\xff\"}", "not UTF-8"},
		{"an unknown type", true, map[string]any{"type": "launch"}, `unknown message type "launch"`},
		{"a subscribe without an id", true, map[string]any{"type": "SUBSCRIBE", "payload": map[string]any{"query": "subscription { statsUpdated { bills } }"}}, "needs an id"},
		{"a stop without an id", true, map[string]any{"type": "STOP"}, "needs the id"},
		{"an id that is a number", true, map[string]any{"type": "SUBSCRIBE", "id": 1, "payload": map[string]any{"query": "subscription { statsUpdated { bills } }"}}, "id must be a string"},
		{"connection_init with a string payload", false, map[string]any{"type": "connection_init", "payload": "Bearer x"}, "connection_init's payload must be an object"},
		{"not JSON before connection_init", false, "hello", "send JSON objects"},
	}
	for _, p := range protocols {
		for _, tc := range messages {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				var conn *websocket.Conn
				if tc.afterInit {
					conn = dialGraphQL(t, env, p.name, init)
				} else {
					conn = dialGraphQL(t, env, p.name, nil)
				}
				msg := tc.message
				if m, ok := msg.(map[string]any); ok {
					msg = protocolMessage(m, p.subscribe)
				}
				writeWS(t, conn, msg)
				m := readWS(t, conn)
				if m.Type != "close" || m.CloseCode != 4400 || !strings.Contains(m.CloseReason, tc.want) {
					t.Errorf("got %s %d %q; want close 4400 saying %q", m.Type, m.CloseCode, m.CloseReason, tc.want)
				}
			})
		}
	}
}

// protocolMessage names SUBSCRIBE and STOP as the protocol does.
func protocolMessage(m map[string]any, subscribe string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	switch m["type"] {
	case "SUBSCRIBE":
		out["type"] = subscribe
	case "STOP":
		out["type"] = map[string]string{"subscribe": "complete", "start": "stop"}[subscribe]
	}
	return out
}

// TestWebsocketProtocolOrder breaks the order graphql-transport-ws prescribes, in both
// protocols where it applies: each break closes the socket with the protocol's code (gqlgen's
// transport closed them all with a bare 1002, and ran a second subscription under a running
// one's id, leaving the first for no complete to stop), and what the protocol allows (a ping
// before connection_init, an id reused once the server ended its operation) is served.
func TestWebsocketProtocolOrder(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(o *app.Options) { o.Websocket.InitTimeout = 300 * time.Millisecond })
	_, token := env.NewUser(t, db.RoleAdmin, "")
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}
	live := map[string]any{"query": "subscription { statsUpdated { bills } }"}
	once := map[string]any{"query": "{ me { username } }"}
	closes := func(t *testing.T, conn *websocket.Conn, code int, reason string) {
		t.Helper()
		if m := readWS(t, conn); m.Type != "close" || m.CloseCode != code || !strings.Contains(m.CloseReason, reason) {
			t.Fatalf("got %s %d %q %s; want close %d saying %q", m.Type, m.CloseCode, m.CloseReason, m.Payload, code, reason)
		}
	}
	for _, p := range protocols {
		subscribe := func(id string, payload map[string]any) map[string]any {
			return map[string]any{"type": p.subscribe, "id": id, "payload": payload}
		}
		t.Run(p.name+"/no connection_init", func(t *testing.T) {
			closes(t, dialGraphQL(t, env, p.name, nil), 4408, "initialisation timeout")
		})
		t.Run(p.name+"/a second connection_init", func(t *testing.T) {
			conn := dialGraphQL(t, env, p.name, init)
			writeWS(t, conn, init)
			closes(t, conn, 4429, "Too many initialisation requests")
		})
		t.Run(p.name+"/an id in use", func(t *testing.T) {
			conn := dialGraphQL(t, env, p.name, init)
			writeWS(t, conn, subscribe("1", live))
			if m := readWS(t, conn, p.result); m.ID != "1" {
				t.Fatalf("subscribe 1 answered %+v", m)
			}
			writeWS(t, conn, subscribe("1", live))
			closes(t, conn, 4409, "Subscriber for 1 already exists")
		})
		t.Run(p.name+"/an id reused once its operation ended", func(t *testing.T) {
			conn := dialGraphQL(t, env, p.name, init)
			for range 3 {
				writeWS(t, conn, subscribe("q", once))
				if m := readWS(t, conn, p.result); m.ID != "q" || !strings.Contains(string(m.Payload), "username") {
					t.Fatalf("query q answered %+v", m)
				}
				if m := readWS(t, conn, "complete"); m.Type != "complete" || m.ID != "q" {
					t.Fatalf("query q ended with %+v", m)
				}
			}
			writeWS(t, conn, subscribe("e", map[string]any{"query": "{ nope }"}))
			if m := readWS(t, conn, "complete"); m.Type != "complete" {
				t.Fatalf("a refused operation ended with %+v", m)
			}
			writeWS(t, conn, subscribe("e", once))
			if m := readWS(t, conn, p.result); m.ID != "e" || !strings.Contains(string(m.Payload), "username") {
				t.Fatalf("the refused operation's id reused: %+v", m)
			}
		})
	}
	t.Run("graphql-transport-ws/subscribe before connection_init", func(t *testing.T) {
		conn := dialGraphQL(t, env, "graphql-transport-ws", nil)
		writeWS(t, conn, map[string]any{"type": "subscribe", "id": "1", "payload": live})
		closes(t, conn, 4401, "Unauthorized")
	})
	t.Run("graphql-ws/start before connection_init", func(t *testing.T) {
		conn := dialGraphQL(t, env, "graphql-ws", nil)
		writeWS(t, conn, map[string]any{"type": "start", "id": "1", "payload": live})
		closes(t, conn, 1002, "send connection_init and wait for connection_ack before start")
	})
	t.Run("only subprotocols the server does not speak", func(t *testing.T) {
		closes(t, dialOffering(t, env, "graphql-sse", "mqtt"), 4406, "Subprotocol not acceptable")
	})
	for _, offered := range [][]string{{"mqtt", "graphql-transport-ws"}, {"graphql-ws", "mqtt"}, nil} {
		t.Run(fmt.Sprintf("offering %q", offered), func(t *testing.T) {
			conn := dialOffering(t, env, offered...)
			writeWS(t, conn, init)
			if m := readWS(t, conn, "connection_ack"); m.Type != "connection_ack" {
				t.Fatalf("connection_init answered %+v", m)
			}
		})
	}
	t.Run("graphql-transport-ws/ping before connection_init", func(t *testing.T) {
		conn := dialGraphQL(t, env, "graphql-transport-ws", nil)
		writeWS(t, conn, map[string]any{"type": "ping", "payload": map[string]any{"n": 1}})
		if m := readWS(t, conn, "pong"); m.Type != "pong" || string(m.Payload) != `{"n":1}` {
			t.Fatalf("ping answered %+v", m)
		}
		writeWS(t, conn, map[string]any{"type": "pong"})
		writeWS(t, conn, init)
		if m := readWS(t, conn, "connection_ack"); m.Type != "connection_ack" {
			t.Fatalf("connection_init after a ping answered %+v", m)
		}
	})
}
