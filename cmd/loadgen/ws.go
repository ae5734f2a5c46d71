package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const subscriptionQuery = `subscription { scanAdded { id at } }`

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe runs cfg.Subscribers scanAdded subscribers (signed in as billers, who see every
// area) until ctx ends, recording each event's delivery latency. Failures are reported on
// stderr at once and returned as notes; they never stop the run.
func subscribe(ctx context.Context, cfg config, hc *httpClient, rec *recorder) []string {
	var mu sync.Mutex
	failures := map[string]int{}
	var wg sync.WaitGroup
	for i := range cfg.Subscribers {
		wg.Go(func() {
			err := subscriber(ctx, cfg, hc, rec, i)
			if err == nil || ctx.Err() != nil {
				return
			}
			rec.deliveryError(codeOf(err))
			mu.Lock()
			defer mu.Unlock()
			if failures[err.Error()] == 0 {
				fmt.Fprintln(cfg.Progress, "loadgen: subscription failed, the run goes on without it:", err)
			}
			failures[err.Error()]++
		})
	}
	wg.Wait()
	notes := make([]string, 0, len(failures))
	for msg, n := range failures {
		notes = append(notes, fmt.Sprintf("%d of %d subscribers failed: %s", n, cfg.Subscribers, msg))
	}
	sort.Strings(notes)
	return notes
}

// subscriber signs in, subscribes over graphql-transport-ws and records deliveries until ctx
// ends (nil) or the server refuses or ends the subscription (the error).
func subscriber(ctx context.Context, cfg config, hc *httpClient, rec *recorder, i int) error {
	c := newClient(hc, cfg.endpoints[i%len(cfg.endpoints)])
	start := time.Now()
	_, err := c.login(ctx, cfg.Seeded.username(roleBiller, i), cfg.Password)
	rec.record(opLogin, start, err)
	c.close()
	if err != nil {
		return err
	}
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := dialer.DialContext(ctx, "ws"+strings.TrimPrefix(cfg.URLs[i%len(cfg.URLs)], "http"), nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = " (" + resp.Status + ")"
		}
		return &requestError{Code: "WS_DIAL", Message: err.Error() + status}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + c.token})
	if err := conn.WriteJSON(wsMessage{Type: "connection_init", Payload: init}); err != nil {
		return wsError(ctx, err)
	}
	return readEvents(ctx, conn, rec)
}

// readEvents subscribes once the server acknowledged the connection, then answers pings and
// records every event.
func readEvents(ctx context.Context, conn *websocket.Conn, rec *recorder) error {
	sub, _ := json.Marshal(map[string]string{"query": subscriptionQuery})
	for {
		var msg wsMessage
		if err := conn.ReadJSON(&msg); err != nil {
			return wsError(ctx, err)
		}
		received := time.Now()
		var err error
		switch msg.Type {
		case "connection_ack":
			err = conn.WriteJSON(wsMessage{ID: "1", Type: "subscribe", Payload: sub})
		case "ping":
			err = conn.WriteJSON(wsMessage{Type: "pong"})
		case "next":
			err = recordEvent(msg.Payload, received, rec)
		case "error":
			err = payloadError(msg.Payload)
		case "complete":
			err = &requestError{Code: "WS_COMPLETE", Message: "the server ended the subscription"}
		}
		if err != nil {
			return wsError(ctx, err)
		}
	}
}

func recordEvent(payload json.RawMessage, received time.Time, rec *recorder) error {
	var next struct {
		Data struct {
			ScanAdded *struct {
				At time.Time `json:"at"`
			} `json:"scanAdded"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &next); err != nil {
		return &requestError{Code: "DECODE", Message: err.Error()}
	}
	if next.Data.ScanAdded == nil {
		return payloadError(payload)
	}
	rec.delivery(received.Sub(next.Data.ScanAdded.At))
	return nil
}

// payloadError turns an "error" payload (a list of GraphQL errors) or a "next" payload
// with errors into a requestError.
func payloadError(payload json.RawMessage) error {
	var list []gqlError
	var wrapped gqlResponse
	if json.Unmarshal(payload, &list) != nil && json.Unmarshal(payload, &wrapped) == nil {
		list = wrapped.Errors
	}
	if len(list) == 0 {
		return &requestError{Code: "WS_PROTOCOL", Message: truncate(string(payload))}
	}
	return asRequestError(list)
}

// wsError keeps requestErrors and labels connection failures; after ctx ended it is nil.
func wsError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	if _, ok := err.(*requestError); ok {
		return err
	}
	return &requestError{Code: "WS_CLOSED", Message: err.Error()}
}
