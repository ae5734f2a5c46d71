package db

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"tracetrack/apperr"
	"tracetrack/qr"
)

// Parent label series (SPEC "Bags and QR codes"; migration 00014 holds the rules). Every scan
// classifies QRs against the series, so the store keeps them in memory: read once, and read
// again after a change, which the change's NOTIFY on LabelSeriesChannel announces to every
// instance (live.WatchLabelSeries calls LabelSeriesChanged). Should a scan still classify
// against series a moment old, the database's bags_qr_format refuses what it got wrong.

// LabelSeriesChannel is the NOTIFY channel of migration 00014: a label series was added or
// removed (the payload is empty).
const LabelSeriesChannel = "tracetrack_label_series"

// LabelSeries is a stored series.
type LabelSeries struct {
	ID          int64     `db:"id"`
	Prefix      string    `db:"prefix"`
	Digits      int       `db:"digits"`
	CreatedByID *int64    `db:"created_by"`
	CreatedAt   time.Time `db:"created_at"`
}

// Series returns the series' format.
func (l *LabelSeries) Series() qr.Series { return qr.Series{Prefix: l.Prefix, Digits: l.Digits} }

// seriesCache holds the QR rules of the series in use; generation counts the changes heard
// so that a read that raced a change does not keep what it read.
type seriesCache struct {
	rules      atomic.Pointer[qr.Rules]
	generation atomic.Uint64
	load       sync.Mutex
}

const labelSeriesColumns = `id, prefix, digits, created_by, created_at`

// QRRules returns the rules of the label series in use, reading them when none are held: the
// one classification of scanned and imported codes.
func (s *Store) QRRules(ctx context.Context) (qr.Rules, error) {
	if rules := s.series.rules.Load(); rules != nil {
		return *rules, nil
	}
	s.series.load.Lock()
	defer s.series.load.Unlock()
	if rules := s.series.rules.Load(); rules != nil {
		return *rules, nil
	}
	generation := s.series.generation.Load()
	list, err := s.readLabelSeries(ctx)
	if err != nil {
		return qr.Rules{}, err
	}
	formats := make([]qr.Series, len(list))
	for i, l := range list {
		formats[i] = l.Series()
	}
	rules := qr.NewRules(formats)
	if s.series.generation.Load() == generation {
		s.series.rules.Store(&rules)
	}
	return rules, nil
}

// LabelSeriesChanged forgets the series held: the next scan reads them again. Call it when a
// series change has committed (on any instance), or when changes may have gone unheard.
func (s *Store) LabelSeriesChanged() {
	s.series.generation.Add(1)
	s.series.rules.Store(nil)
}

func (s *Store) readLabelSeries(ctx context.Context) ([]*LabelSeries, error) {
	var list []*LabelSeries
	err := s.db.SelectContext(ctx, &list, `SELECT `+labelSeriesColumns+` FROM label_series ORDER BY id`)
	return list, wrap(err, "read label series")
}

func (a Actor) mayManageLabelSeries() error {
	if a.Role != RoleAdmin {
		return apperr.New(apperr.Forbidden, "only admins see and add label series")
	}
	return nil
}

// LabelSeries returns the series in use, oldest first (ADMIN).
func (s *Store) LabelSeries(ctx context.Context, a Actor) ([]*LabelSeries, error) {
	if err := a.mayManageLabelSeries(); err != nil {
		return nil, err
	}
	return s.readLabelSeries(ctx)
}

// CreateLabelSeries adds a series (ADMIN). A malformed one is BAD_USER_INPUT; one that
// overlaps a series in use, or would turn an existing child QR into a parent QR, is CONFLICT
// (the database decides, under its lock on bags: see migration 00014).
func (s *Store) CreateLabelSeries(ctx context.Context, a Actor, prefix string, digits int) (*LabelSeries, error) {
	if err := a.mayManageLabelSeries(); err != nil {
		return nil, err
	}
	series, err := qr.NewSeries(prefix, digits)
	if err != nil {
		return nil, apperr.New(apperr.BadUserInput, "%s", err.Error())
	}
	var created LabelSeries
	err = s.db.GetContext(ctx, &created, `
		INSERT INTO label_series (prefix, digits, created_by) VALUES ($1, $2, $3)
		RETURNING `+labelSeriesColumns, series.Prefix, series.Digits, a.UserID)
	if err != nil {
		return nil, labelSeriesError(err)
	}
	s.LabelSeriesChanged()
	return &created, nil
}

// labelSeriesError turns the refusals of migration 00014 into CONFLICT with their message,
// which names the clashing series or child bag and what to do.
func labelSeriesError(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Constraint {
		case "label_series_overlap", "label_series_child_clash":
			return apperr.New(apperr.Conflict, "%s", pqErr.Message)
		}
	}
	return wrap(err, "add label series")
}
