package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// Websocket messages are checked before gqlgen's transport reads them. gqlgen drops a socket
// without a reason for a message it cannot decode, and answers a subscribe whose payload is
// not a GraphQL request with an uncoded "invalid json". Here:
//   - a message that breaks the protocol (not a JSON object, an unknown type, an id that is
//     not a string) closes the socket with 4400 and a reason saying what is wrong, as
//     graphql-transport-ws prescribes;
//   - a subscribe (graphql-ws: start) whose payload is not one GraphQL request is answered,
//     for its id only, with BAD_USER_INPUT saying what is wrong; the socket stays open.

const closeBadMessage = 4400

// clientMessageTypes are the messages a client may send, by subprotocol ("" is the legacy
// graphql-ws that gqlgen assumes without one).
var clientMessageTypes = map[string][]string{
	"graphql-transport-ws": {"connection_init", "subscribe", "complete", "ping", "pong"},
	"graphql-ws":           {"connection_init", "start", "stop", "connection_terminate"},
	"":                     {"connection_init", "start", "stop", "connection_terminate"},
}

// clientMessage is a client message as the protocols define it.
type clientMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// refusedPayloadKey marks a subscribe payload replaced because it was malformed: the key is
// random per process, so no client can send it, and refusedPayloads turns it back into the
// coded error.
var refusedPayloadKey = privateKey("tracetrack.refused.")

// subscriptionIDKey carries a subscribe's id into its operation's extensions (gqlgen does
// not hand the id to extensions), where the multiplexer reads it to frame the subscriber's
// messages (wsmux.go); random per process like refusedPayloadKey.
var subscriptionIDKey = privateKey("tracetrack.id.")

func privateKey(prefix string) string {
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	return prefix + hex.EncodeToString(raw)
}

// screenClientMessage checks one message of the subprotocol. It returns the message for the
// transport (the same bytes, or a subscribe whose bad payload was replaced by a marked one),
// or a close reason when the message breaks the protocol.
func screenClientMessage(subprotocol string, raw []byte) ([]byte, clientMessage, string) {
	var m clientMessage
	if !utf8.Valid(raw) {
		return nil, m, "the message is not UTF-8 text; send JSON encoded as UTF-8"
	}
	allowed := clientMessageTypes[subprotocol]
	if err := json.Unmarshal(raw, &m); err != nil || m.Type == "" {
		var object map[string]json.RawMessage
		if json.Unmarshal(raw, &object) == nil && object["id"] != nil && object["id"][0] != '"' {
			return nil, m, `a message's id must be a string, such as "1"`
		}
		return nil, m, fmt.Sprintf(`send JSON objects such as {"type": %q, ...}`, allowed[0])
	}
	if !slices.Contains(allowed, m.Type) {
		return nil, m, "unknown message type " + scalar.Quote(m.Type) + "; send one of " + strings.Join(allowed, ", ")
	}
	switch m.Type {
	case "connection_init":
		if v, err := decodeJSON(m.Payload, "the payload"); err != nil || !isObjectOrNull(v) {
			return nil, m, `connection_init's payload must be an object such as {"Authorization": "Bearer <token>"}`
		}
	case "subscribe", "start":
		if m.ID == "" {
			return nil, m, m.Type + " needs an id: a string naming the operation"
		}
		params, err := decodeRequest(m.Payload)
		if err != nil {
			return refusedSubscribe(m, err), m, ""
		}
		return withSubscriptionID(m, params), m, ""
	case "complete", "stop":
		if m.ID == "" {
			return nil, m, m.Type + " needs the id of the operation to stop"
		}
	}
	return raw, m, ""
}

// refusedSubscribe replaces the payload of a malformed subscribe by one that carries only
// the error, so the transport answers that id with it.
func refusedSubscribe(m clientMessage, err error) []byte {
	e, _ := apperr.As(err)
	payload, _ := json.Marshal(map[string]any{"extensions": map[string]any{refusedPayloadKey: e.Message}})
	m.Payload = payload
	out, _ := json.Marshal(m)
	return out
}

// withSubscriptionID returns the subscribe message with its id in the payload's extensions
// (subscriptionIDKey).
func withSubscriptionID(m clientMessage, params *graphql.RawParams) []byte {
	extensions := make(map[string]any, len(params.Extensions)+1)
	for k, v := range params.Extensions {
		extensions[k] = v
	}
	extensions[subscriptionIDKey] = m.ID
	params.Extensions = extensions
	m.Payload, _ = json.Marshal(params)
	out, _ := json.Marshal(m)
	return out
}

// refusedPayloads is the operation parameter mutator that answers a payload replaced by
// refusedSubscribe with BAD_USER_INPUT and its message.
type refusedPayloads struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = refusedPayloads{}

func (refusedPayloads) ExtensionName() string                   { return "RefusedPayloads" }
func (refusedPayloads) Validate(graphql.ExecutableSchema) error { return nil }

func (refusedPayloads) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	message, refused := params.Extensions[refusedPayloadKey].(string)
	if !refused {
		return nil
	}
	return requestError(badRequest("the subscribe payload is not a GraphQL request: %s", message))
}

func isObjectOrNull(v any) bool {
	_, isObject := v.(map[string]any)
	return v == nil || isObject
}

// screen reads a client message whole and checks it (screenClientMessage) and its place in
// the protocol (inOrder); one that breaks either closes the socket with the code and reason.
// answered is true for a message answered here, which the transport never sees.
func (c *wsConn) screen(r io.Reader) (msg io.Reader, answered bool, err error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, false, err
	}
	screened, m, reason := screenClientMessage(c.Subprotocol(), raw)
	code := closeBadMessage
	if reason == "" {
		answered, code, reason = c.inOrder(m)
	}
	if reason != "" {
		c.closeWith(code, reason)
		return nil, false, transport.ErrWebsocketClosed
	}
	return bytes.NewReader(screened), answered, nil
}
