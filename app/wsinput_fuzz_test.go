package app

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzWebsocketMessage screens arbitrary client messages: no panic, and every message let
// through is a JSON object of an allowed type (the transport can read it).
func FuzzWebsocketMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type": "connection_init", "payload": {"Authorization": "Bearer x"}}`,
		`{"type": "subscribe", "id": "1", "payload": {"query": 123}}`,
		`{"type": "start", "id": "1", "payload": {"query": "subscription { statsUpdated { bills } }"}}`,
		`{"type": "complete"}`, `[]`, `hello`, "{\"type\": \"\xff\"}", `{"type": "ping", "payload": 5}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for subprotocol, allowed := range clientMessageTypes {
			out, screened, reason := screenClientMessage(subprotocol, []byte(raw))
			if reason != "" {
				continue
			}
			var m clientMessage
			if err := json.Unmarshal(out, &m); err != nil || !slices.Contains(allowed, m.Type) || m.Type != screened.Type || m.ID != screened.ID {
				t.Fatalf("%s: let through %q as %q", subprotocol, raw, out)
			}
		}
	})
}
