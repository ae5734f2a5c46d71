package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/live"
	"tracetrack/metrics"
	"tracetrack/resolvers"
)

// Multiplexed subscriptions. Subscribers whose subscription has the same document, operation
// name, variables and scope share one execution per event: the group's leader runs gqlgen's
// operation (the resolver with its scope checks, then the selection set per event with one
// set of loaders), the response is encoded once, and each subscriber's socket is handed the
// same payload bytes behind its own `{"id":...,"type":"next","payload":` prefix. gqlgen's
// transport still reads, parses, validates and budgets each subscribe, and runs every
// operation interceptor before this one (the last); only the execution is shared.
//
// The scope in the key is what the payload may depend on: role and area, and the user when
// the selection reaches a User and the role does not see every user's private fields
// (admins), so no subscriber ever gets a payload executed for another scope. Shared are the live streams without a per-subscriber
// start: scanAdded without `after` and billUpdated. scanAdded with `after` (a replay from
// the subscriber's own point) and statsUpdated (the stats now, then changes) run per
// subscriber as before.

// liveMux is the operation interceptor that groups subscriptions.
type liveMux struct {
	mu     sync.Mutex
	groups map[string]*liveGroup
	// limit is how many frames a socket may have queued before a subscriber is cut.
	limit int
	// pacer sets how long frames wait for company (WebsocketOptions.FlushDelay at most).
	pacer *flushPacer
}

var (
	_ graphql.HandlerExtension     = (*liveMux)(nil)
	_ graphql.OperationInterceptor = (*liveMux)(nil)
)

func newLiveMux(limit int, flushDelay time.Duration) *liveMux {
	if limit <= 0 {
		limit = live.DefaultBuffer
	}
	return &liveMux{groups: make(map[string]*liveGroup), limit: limit, pacer: &flushPacer{max: flushDelay}}
}

func (*liveMux) ExtensionName() string                   { return "LiveMultiplexer" }
func (*liveMux) Validate(graphql.ExecutableSchema) error { return nil }

// liveGroup is one shared execution and its subscribers.
type liveGroup struct {
	key   string
	field string
	// ready is closed when the leader has run the resolver; started says whether a live
	// stream began (else the leader answers its error alone and the others run their own).
	ready   chan struct{}
	started bool
	cancel  context.CancelFunc
	relay   *live.Relay

	mu sync.Mutex
	// members in one array, not a map: the fan-out walks 1,000s of them per event, and a
	// member's fields are read from the array in order instead of from a node each.
	members []memberSlot
	// retired: the group takes no new members (it ended, or its last member left).
	retired bool
}

// groupMember is one subscriber of a group.
type groupMember struct {
	conn *wsConn
	// prefix opens each of its messages: {"id":<id>,"type":"next","payload": (or "data" in
	// the legacy protocol).
	prefix []byte
	// at is its index in the group's members (-1: it left or was cut); g.mu guards it.
	at int
	// done is closed when the group ends the member's subscription, err says why (nil: the
	// stream ended normally).
	done chan struct{}
	err  error
}

// memberSlot is what the fan-out reads and writes of a member per event.
type memberSlot struct {
	conn   *wsConn
	prefix []byte
	// lastScan is the last scan queued to it: where it resumes when cut.
	lastScan int64
	member   *groupMember
}

// add appends the member; g.mu is held.
func (g *liveGroup) add(member *groupMember) {
	member.at = len(g.members)
	g.members = append(g.members, memberSlot{conn: member.conn, prefix: member.prefix, member: member})
}

// remove takes the member at i out (the last one takes its place) and returns its slot;
// g.mu is held.
func (g *liveGroup) remove(i int) memberSlot {
	slot := g.members[i]
	last := len(g.members) - 1
	g.members[i] = g.members[last]
	g.members[i].member.at = i
	g.members[last] = memberSlot{}
	g.members = g.members[:last]
	slot.member.at = -1
	return slot
}

func (m *liveMux) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	slot := slotFrom(ctx)
	if slot == nil || slot.conn == nil {
		return next(ctx)
	}
	rc := graphql.GetOperationContext(ctx)
	key, field, prefix, ok := shareKey(ctx, rc, slot.conn.Subprotocol())
	if !ok {
		return next(ctx)
	}
	member := &groupMember{conn: slot.conn, prefix: prefix, done: make(chan struct{})}
	g, leader := m.join(key, field, member)
	if leader {
		if handler, shared := m.lead(ctx, g, member, next); !shared {
			return handler
		}
	}
	<-g.ready
	if !g.started {
		m.leave(g, member)
		return next(ctx)
	}
	metrics.Subscriptions.WithLabelValues(field).Inc()
	g.relay.Joined(1)
	// The handler waits on the interceptor's context, the subscriber's own: the transport
	// calls it with the context the operation last ran under, the group's for the leader.
	return func(context.Context) *graphql.Response {
		defer metrics.Subscriptions.WithLabelValues(field).Dec()
		defer g.relay.Joined(-1)
		select {
		case <-ctx.Done(): // the client completed it, or its socket closed
			m.leave(g, member)
		case <-member.done:
			if member.err != nil {
				err := resolvers.LiveError(ctx, member.err)
				err.Path = ast.Path{ast.PathName(field)}
				transport.AddSubscriptionError(ctx, err)
			}
		}
		return nil
	}
}

// shareKey says whether the subscription can be shared and under which key; field is its
// root field, prefix the frame prefix of its messages.
func shareKey(ctx context.Context, rc *graphql.OperationContext, subprotocol string) (key, field string, prefix []byte, ok bool) {
	id, _ := rc.Extensions[subscriptionIDKey].(string)
	if rc.Operation == nil || rc.Operation.Operation != ast.Subscription || id == "" || rc.RawQuery == "" {
		return "", "", nil, false
	}
	fields := graphql.CollectFields(rc, rc.Operation.SelectionSet, nil)
	if len(fields) != 1 {
		return "", "", nil, false
	}
	f := fields[0]
	switch f.Name {
	case "billUpdated":
	case "scanAdded":
		if f.ArgumentMap(rc.Variables)["after"] != nil {
			return "", "", nil, false
		}
	default:
		return "", "", nil, false
	}
	variables, err := json.Marshal(rc.Variables) // map keys sorted: one spelling per value
	if err != nil {
		return "", "", nil, false
	}
	scope := scopeKey(auth.ActorFrom(ctx), reachesUser(rc.Operation.SelectionSet))
	key = fmt.Sprintf("%s\x00%s\x00%s\x00%s", scope, rc.OperationName, variables, rc.RawQuery)
	return key, f.Name, framePrefix(id, subprotocol), true
}

// scopeKey names what a payload may depend on of its subscriber: the role and area, and the
// user when the selection reaches a User (a user's own private fields, db.Actor.MaySeePrivate)
// and the role does not see everyone's.
func scopeKey(a db.Actor, selectsUser bool) string {
	area := "all"
	if a.AreaID != nil {
		area = fmt.Sprint(*a.AreaID)
	}
	user := "any"
	if selectsUser && a.Role != db.RoleAdmin && a.UserID != nil {
		user = fmt.Sprint(*a.UserID)
	}
	return fmt.Sprintf("%s/%s/%s", a.Role, area, user)
}

// reachesUser reports whether the selection can return a User anywhere in it (through a
// field of type User or of an abstract type, which might resolve to one). Only then can the
// payload differ between two subscribers of one role and area, so only then is the user part
// of the key: billers watching `scanAdded { id at }` share one execution.
func reachesUser(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || s.Definition.Type.Name() == "User" || s.Definition.Type.Name() == "Node" ||
				reachesUser(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if reachesUser(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || reachesUser(s.Definition.SelectionSet) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func framePrefix(id, subprotocol string) []byte {
	kind := "data"
	if subprotocol == "graphql-transport-ws" {
		kind = "next"
	}
	quoted, _ := json.Marshal(id)
	return fmt.Appendf(nil, `{"id":%s,"type":%q,"payload":`, quoted, kind)
}

// join adds the member to the group of the key, making the group when there is none (the
// member then leads it).
func (m *liveMux) join(key, field string, member *groupMember) (*liveGroup, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.groups[key]
	leader := g == nil
	if leader {
		g = &liveGroup{key: key, field: field, ready: make(chan struct{})}
		m.groups[key] = g
	}
	g.mu.Lock()
	g.add(member)
	g.mu.Unlock()
	return g, leader
}

// leave removes the member; the group's last member retires it and stops its stream.
func (m *liveMux) leave(g *liveGroup, member *groupMember) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if member.at >= 0 { // not cut meanwhile
		g.remove(member.at)
	}
	if len(g.members) == 0 {
		m.retireLocked(g)
	}
}

// retireLocked takes the group out of the registry so that no one joins it; m.mu and g.mu
// are held.
func (m *liveMux) retireLocked(g *liveGroup) {
	if g.retired {
		return
	}
	g.retired = true
	if m.groups[g.key] == g {
		delete(m.groups, g.key)
	}
	if g.cancel != nil {
		g.cancel()
	}
}

// lead runs the resolver for the group with the leader's context, detached from the
// leader's lifetime. When no stream started it returns the resolver's answer for the leader
// alone (shared false).
func (m *liveMux) lead(ctx context.Context, g *liveGroup, member *groupMember, next graphql.OperationHandler) (graphql.ResponseHandler, bool) {
	groupCtx, cancel := context.WithCancel(resolvers.ShareEnd(context.WithoutCancel(ctx)))
	groupCtx, relay := live.WithRelay(groupCtx)
	handler := next(groupCtx)
	m.mu.Lock()
	g.started, g.cancel, g.relay = relay.Started(), cancel, relay
	if !g.started {
		m.retireLocked(g)
	}
	m.mu.Unlock()
	close(g.ready)
	if !g.started {
		// The resolver refused (with the leader's scope, which is every member's): the
		// leader answers that alone, and the members who joined meanwhile run their own.
		m.leave(g, member)
		return handler, false
	}
	go m.run(groupCtx, g, handler, relay)
	return nil, true
}

// run executes the group's operation per event and hands each payload to every member.
func (m *liveMux) run(ctx context.Context, g *liveGroup, handler graphql.ResponseHandler, relay *live.Relay) {
	var cause error
	defer func() {
		if r := recover(); r != nil {
			cause = fmt.Errorf("shared subscription panicked: %v", r)
		}
		m.end(g, cause)
	}()
	for {
		resp := handler(ctx)
		if resp == nil {
			break
		}
		payload, err := json.Marshal(resp)
		if err != nil {
			cause = err
			break
		}
		scanID, published := relay.Next()
		m.fanOut(g, payload, scanID, published)
	}
	if ctx.Err() == nil {
		cause = resolvers.EndCause(ctx)
	}
}

// fanOut queues the payload to every member; a member whose socket has limit frames queued
// is cut (it resumes with after = the last scan it was given). published is when the hub
// published the event (zero: unknown): how far behind the fan-out is tells the pacer.
func (m *liveMux) fanOut(g *liveGroup, payload []byte, scanID int64, published time.Time) {
	now, pace := time.Now(), m.pacer.current()
	var behind time.Duration
	if !published.IsZero() {
		behind = now.Sub(published)
	}
	g.mu.Lock()
	sent := 0
	for i := 0; i < len(g.members); {
		slot := &g.members[i]
		if !slot.conn.sendLive(slot.prefix, payload, m.limit, pace, now) {
			cut := g.remove(i) // the last member moves to i: it is next
			cut.member.finish(&live.OverflowError{Buffer: m.limit, LastID: cut.lastScan})
			continue
		}
		if scanID != 0 {
			slot.lastScan = scanID
		}
		sent++
		i++
	}
	empty := len(g.members) == 0
	g.mu.Unlock()
	live.Delivered(sent)
	m.pacer.count(sent, now, behind)
	if empty {
		m.mu.Lock()
		g.mu.Lock()
		if len(g.members) == 0 {
			m.retireLocked(g)
		}
		g.mu.Unlock()
		m.mu.Unlock()
	}
}

// end retires the group and ends every member's subscription with the cause (nil: none).
func (m *liveMux) end(g *liveGroup, cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	m.retireLocked(g)
	for len(g.members) > 0 {
		slot := g.remove(len(g.members) - 1)
		err := cause
		var overflow *live.OverflowError
		if errors.As(cause, &overflow) {
			// the shared stream fell behind: each member resumes from its own last scan
			err = &live.OverflowError{Buffer: overflow.Buffer, LastID: slot.lastScan}
		}
		slot.member.finish(err)
	}
}

func (member *groupMember) finish(err error) {
	member.err = err
	close(member.done)
}
