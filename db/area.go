package db

import (
	"context"
	"strings"
	"sync"

	"tracetrack/apperr"
	"tracetrack/internal/scalar"
)

// areaCache holds the dispatch areas: they are seeded by the first migration and never
// change, so they are read once per store instead of once per request.
type areaCache struct {
	mu     sync.Mutex
	loaded bool
	list   []*Area
	byCode map[string]*Area
	byID   map[int64]*Area
}

func (s *Store) loadAreas(ctx context.Context) error {
	c := s.areas
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return nil
	}
	var list []Area
	err := s.db.SelectContext(ctx, &list, `
		SELECT `+areaColumns+`
		FROM areas
		ORDER BY id`)
	if err != nil {
		return wrap(err, "load areas")
	}
	c.byCode = make(map[string]*Area, len(list))
	c.byID = make(map[int64]*Area, len(list))
	for i := range list {
		a := &list[i]
		c.list = append(c.list, a)
		c.byCode[a.Code] = a
		c.byID[a.ID] = a
	}
	c.loaded = true
	return nil
}

// Areas returns every dispatch area in id order.
func (s *Store) Areas(ctx context.Context) ([]*Area, error) {
	if err := s.loadAreas(ctx); err != nil {
		return nil, err
	}
	return s.areas.list, nil
}

// AreaByCode returns the area with the code (any case, surrounding spaces ignored), or
// BAD_USER_INPUT naming the known codes.
func (s *Store) AreaByCode(ctx context.Context, code string) (*Area, error) {
	if err := s.loadAreas(ctx); err != nil {
		return nil, err
	}
	if a, ok := s.areas.byCode[strings.ToLower(strings.TrimSpace(code))]; ok {
		return a, nil
	}
	codes := make([]string, len(s.areas.list))
	for i, a := range s.areas.list {
		codes[i] = a.Code
	}
	return nil, apperr.New(apperr.BadUserInput, "unknown area %s; known areas: %s", scalar.Quote(code), strings.Join(codes, ", "))
}

// AreaByID returns the area with the id, or nil if there is none.
func (s *Store) AreaByID(ctx context.Context, id int64) (*Area, error) {
	if err := s.loadAreas(ctx); err != nil {
		return nil, err
	}
	return s.areas.byID[id], nil
}
