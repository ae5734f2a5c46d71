package live

import (
	"context"
	"sync"
	"time"

	"tracetrack/db"
)

// StatsUpdated streams the stats of an area (nil: all): the current ones at once, then fresh
// ones after changes, at most once per StatsInterval. Changes in between are coalesced.
func (h *Hub) StatsUpdated(ctx context.Context, areaID *int64, fail Fail) (<-chan *db.Stats, error) {
	sub := h.subscribe(ctx, func(ev Event) bool {
		if ev.Scan != nil {
			return areaID == nil || (ev.Scan.AreaID != nil && *ev.Scan.AreaID == *areaID)
		}
		return true // bills and resyncs
	}, true)
	if sub == nil {
		return nil, ErrClosed
	}
	s := newStream[*db.Stats](ctx, h, "statsUpdated", sub, fail)
	go func() {
		defer s.end()
		changedAt := time.Now()
		for {
			stats, err := h.stats.get(ctx, areaID, changedAt)
			if err != nil {
				s.fail(err)
				return
			}
			if !s.send(ctx, stats) {
				return
			}
			sentAt := time.Now()
			if _, ok := s.next(ctx, 0); !ok {
				return
			}
			changedAt = time.Now()
			select {
			case <-time.After(time.Until(sentAt.Add(h.opts.StatsInterval))):
			case <-ctx.Done():
				return
			}
		}
	}()
	return s.out, nil
}

// storeStats reads the stats from the store, as the stats query does. The area is already
// the subscriber's scope (resolved when it subscribed), so the hub reads as the server.
func storeStats(store *db.Store, zone *time.Location, now func() time.Time) StatsSource {
	if zone == nil {
		zone = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, areaID *int64) (*db.Stats, error) {
		return store.Stats(ctx, db.System, areaID, now(), zone)
	}
}

// statsCache shares one stats computation among the subscribers of an area: after a change,
// the first one computes and the others take its answer.
type statsCache struct {
	source  StatsSource
	mu      sync.Mutex
	entries map[int64]*statsEntry
}

type statsEntry struct {
	mu      sync.Mutex
	started time.Time
	stats   *db.Stats
}

func newStatsCache(source StatsSource) *statsCache {
	return &statsCache{source: source, entries: make(map[int64]*statsEntry)}
}

// get returns stats computed after changedAt.
func (c *statsCache) get(ctx context.Context, areaID *int64, changedAt time.Time) (*db.Stats, error) {
	var key int64
	if areaID != nil {
		key = *areaID
	}
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		e = &statsEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stats != nil && !e.started.Before(changedAt) {
		return e.stats, nil
	}
	started := time.Now()
	stats, err := c.source(ctx, areaID)
	if err != nil {
		return nil, err
	}
	e.started, e.stats = started, stats
	return stats, nil
}
