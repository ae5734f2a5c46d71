package app

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
)

// The order of a socket's messages, as graphql-transport-ws prescribes it (gqlgen's transport
// closes every break of it with a bare 1002, and runs two subscriptions under one id, the
// first of which no complete can stop any more):
//   - a client offering only subprotocols other than graphql-transport-ws and graphql-ws is
//     closed 4406 (gqlgen served it as graphql-ws);
//   - connection_init within WebsocketOptions.InitTimeout of the upgrade, or the socket
//     closes 4408;
//   - one connection_init: a second closes 4429;
//   - graphql-transport-ws: ping and pong at any time, answered before connection_init too;
//     a subscribe or complete before it closes 4401;
//   - graphql-ws (legacy): a start before connection_init closes 1002 as gqlgen's transport
//     would, with a reason saying what to send first (gqlgen's: "unexpected message");
//   - an id names one operation until the server ends it (its complete or error message): a
//     subscribe reusing a running operation's id closes 4409. The legacy protocol shares this
//     rule (gqlgen would lose the first operation's stop there too).

const (
	closeProtocolError = 1002
	closeSubprotocol   = 4406
	closeInitTimeout   = 4408
	closeIDInUse       = 4409
)

// awaitInit closes the socket with 4408 unless connection_init comes within timeout (0: no
// limit).
func (c *wsConn) awaitInit(timeout time.Duration) {
	if timeout <= 0 {
		return
	}
	c.initTimer = time.AfterFunc(timeout, func() {
		c.mu.Lock()
		initialised := c.initialised
		c.mu.Unlock()
		if !initialised {
			c.closeWith(closeInitTimeout, "Connection initialisation timeout")
		}
	})
}

// inOrder checks a screened client message against what the socket has seen. It returns
// answered (a ping before connection_init, which the transport would refuse, answered here),
// or a close code and reason for a message out of order.
func (c *wsConn) inOrder(m clientMessage) (answered bool, code int, reason string) {
	transportWS := c.Subprotocol() == "graphql-transport-ws"
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m.Type {
	case "connection_init":
		if c.initialised {
			return false, closeTooMany, "Too many initialisation requests"
		}
		c.initialised = true
		if c.initTimer != nil {
			c.initTimer.Stop()
		}
		return false, 0, ""
	case "ping", "pong":
		if c.initialised {
			return false, 0, ""
		}
		if m.Type == "ping" {
			pong, _ := json.Marshal(clientMessage{Type: "pong", Payload: m.Payload})
			_ = c.out.push(outgoing{data: pong}, false, c.done)
		}
		return true, 0, ""
	case "subscribe", "start":
		if !c.initialised && transportWS {
			return false, closeUnauthorized, "Unauthorized: send connection_init and wait for connection_ack before subscribe"
		}
		if !c.initialised {
			return false, closeProtocolError, "send connection_init and wait for connection_ack before start"
		}
		if _, running := c.operations[m.ID]; running {
			return false, closeIDInUse, "Subscriber for " + m.ID + " already exists"
		}
		if c.operations == nil {
			c.operations = make(map[string]struct{})
		}
		c.operations[m.ID] = struct{}{}
	case "complete":
		if !c.initialised {
			return false, closeUnauthorized, "Unauthorized: send connection_init and wait for connection_ack first"
		}
	}
	return false, 0, ""
}

// ended frees the id of an operation the server ended: msg is one of gqlgen's messages, a
// struct of both protocols with the fields Type and ID, and data its JSON, which tells at no
// cost the results (most messages) from what may end an operation.
func (c *wsConn) ended(msg any, data []byte) {
	if !bytes.Contains(data, []byte(`"complete"`)) && !bytes.Contains(data, []byte(`"error"`)) {
		return
	}
	v := reflect.Indirect(reflect.ValueOf(msg))
	if v.Kind() != reflect.Struct {
		return
	}
	typ, id := v.FieldByName("Type"), v.FieldByName("ID")
	if !typ.IsValid() || !id.IsValid() || typ.Kind() != reflect.String || id.Kind() != reflect.String {
		return
	}
	if t := typ.String(); t != "complete" && t != "error" {
		return
	}
	c.mu.Lock()
	delete(c.operations, id.String())
	c.mu.Unlock()
}
