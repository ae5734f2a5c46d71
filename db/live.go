package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// Reads of the live feed (migration 00015, live/feed.go). They go to the primary, never the
// replica: a tick's snapshot is the primary's, and a lagging replica could miss its rows.

// Snapshot is a PostgreSQL pg_snapshot: every transaction below Xmin had ended, every one at
// or above Xmax had not started, and those in Xip (between the two) were in progress.
type Snapshot struct {
	Xmin, Xmax uint64
	Xip        []uint64
}

// ParseSnapshot reads the text form of a pg_snapshot, "xmin:xmax:xip,xip,...".
func ParseSnapshot(text string) (Snapshot, error) {
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return Snapshot{}, fmt.Errorf("db: bad snapshot %q", text)
	}
	var s Snapshot
	var err1, err2 error
	s.Xmin, err1 = strconv.ParseUint(parts[0], 10, 64)
	s.Xmax, err2 = strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil || s.Xmin == 0 || s.Xmax < s.Xmin {
		return Snapshot{}, fmt.Errorf("db: bad snapshot %q", text)
	}
	if parts[2] != "" {
		for _, f := range strings.Split(parts[2], ",") {
			x, err := strconv.ParseUint(f, 10, 64)
			if err != nil || x < s.Xmin || x >= s.Xmax || (len(s.Xip) > 0 && x <= s.Xip[len(s.Xip)-1]) {
				return Snapshot{}, fmt.Errorf("db: bad snapshot %q", text)
			}
			s.Xip = append(s.Xip, x)
		}
	}
	return s, nil
}

// String is the text form PostgreSQL reads.
func (s Snapshot) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(s.Xmin, 10))
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(s.Xmax, 10))
	b.WriteByte(':')
	for i, x := range s.Xip {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(x, 10))
	}
	return b.String()
}

// Sees reports whether the transaction had ended when the snapshot was taken (as
// pg_visible_in_snapshot does): its rows, if it committed, are visible in the snapshot.
func (s Snapshot) Sees(xid uint64) bool {
	if xid < s.Xmin {
		return true
	}
	if xid >= s.Xmax {
		return false
	}
	_, inProgress := slices.BinarySearch(s.Xip, xid)
	return !inProgress
}

// Scan reads a pg_snapshot column.
func (s *Snapshot) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case []byte:
		text = string(v)
	case string:
		text = v
	default:
		return fmt.Errorf("db: cannot read a snapshot from %T", src)
	}
	parsed, err := ParseSnapshot(text)
	*s = parsed
	return err
}

// Value sends the snapshot as text (cast to pg_snapshot in the statement).
func (s Snapshot) Value() (driver.Value, error) { return s.String(), nil }

// newlyVisible is the condition on a transaction id column of the rows that one snapshot
// (from) does not see and a later one (to) does: an id at or above from's xmax or in its
// in-progress list (two index lookups), seen by to. Its parameters, $1 to $3, are between's.
func newlyVisible(column string) string {
	return `(` + column + ` >= $1::xid8 OR ` + column + ` = ANY($2::xid8[]))
		  AND pg_visible_in_snapshot(` + column + `, $3::pg_snapshot)`
}

func between(from, to Snapshot, more ...any) []any {
	xip := make(pq.StringArray, len(from.Xip))
	for i, x := range from.Xip {
		xip[i] = strconv.FormatUint(x, 10)
	}
	return append([]any{strconv.FormatUint(from.Xmax, 10), xip, to}, more...)
}

// Tick is one entry of live_ticks: a snapshot the feed took when something new was visible.
// Scans and Bills say what its batch holds (bills: bill changes or deletions).
type Tick struct {
	ID    int64    `db:"id"`
	Snap  Snapshot `db:"snap"`
	Scans bool     `db:"scans"`
	Bills bool     `db:"bills"`
}

const tickColumns = `id, snap::text AS snap, scans, bills`

// LiveTick records a tick if something committed since the latest one and returns the latest
// tick (one statement; when nothing changed it writes nothing). See migration 00015.
func (s *Store) LiveTick(ctx context.Context) (Tick, error) {
	var t Tick
	err := s.db.GetContext(ctx, &t, `SELECT tick_id AS id, tick_snap::text AS snap, tick_scans AS scans, tick_bills AS bills FROM tt_live_tick()`)
	return t, wrap(err, "take a live tick")
}

// LiveTicksAfter returns up to limit ticks after the one with the id, oldest first.
func (s *Store) LiveTicksAfter(ctx context.Context, afterID int64, limit int) ([]Tick, error) {
	var ticks []Tick
	err := s.db.SelectContext(ctx, &ticks, `
		SELECT `+tickColumns+` FROM live_ticks WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	return ticks, wrap(err, "read live ticks")
}

// LiveTickBefore returns the tick before the one with the id (nil: none is kept).
func (s *Store) LiveTickBefore(ctx context.Context, id int64) (*Tick, error) {
	var t Tick
	err := s.db.GetContext(ctx, &t, `
		SELECT `+tickColumns+` FROM live_ticks WHERE id < $1 ORDER BY id DESC LIMIT 1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &t, wrap(err, "read a live tick")
}

// FirstTickSeeing returns the first tick kept whose snapshot sees the transaction (nil: none
// yet). Ticks' xmax grows with their id, so the index on it finds the tick at once.
func (s *Store) FirstTickSeeing(ctx context.Context, xid uint64) (*Tick, error) {
	var t Tick
	err := s.db.GetContext(ctx, &t, `
		SELECT `+tickColumns+` FROM live_ticks
		WHERE pg_snapshot_xmax(snap) > $1::xid8 AND pg_visible_in_snapshot($1::xid8, snap)
		ORDER BY pg_snapshot_xmax(snap), id
		LIMIT 1`, xid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &t, wrap(err, "find the tick of a transaction")
}

// ScanWriteXID returns the id of the transaction that logged the scan (nil: no such scan, or
// it was logged before the feed recorded transaction ids).
func (s *Store) ScanWriteXID(ctx context.Context, scanID int64) (*uint64, error) {
	var xid *uint64
	err := s.db.GetContext(ctx, &xid, `SELECT write_xid FROM scans WHERE id = $1`, scanID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return xid, wrap(err, "read a scan's transaction")
}

// LiveScanFilter selects scans of the live feed.
type LiveScanFilter struct {
	// AreaID keeps one area's scans (nil: every area).
	AreaID *int64
	// Kinds keeps these kinds (empty: every kind).
	Kinds []ScanKind
	// AfterXID and AfterID skip the scans at or before (AfterXID, AfterID) in transaction id,
	// then scan id order (zero: none skipped).
	AfterXID uint64
	AfterID  int64
}

// LiveScan is a scan and the transaction that logged it.
type LiveScan struct {
	Scan
	WriteXID uint64 `db:"write_xid"`
}

// liveScanMatch keeps the scans the actor may see that match a LiveScanFilter; its parameters,
// $4 to $6, are scanMatchParams'.
const liveScanMatch = `($4::bigint IS NULL OR area_id = $4)
		  AND (cardinality($5::text[]) = 0 OR kind = ANY($5))
		  AND ($6::bigint IS NULL OR area_id = $6)`

func (f LiveScanFilter) scanMatchParams(a Actor) []any {
	return []any{f.AreaID, kindParams(f.Kinds), a.scopeParam()}
}

// LiveScans returns up to limit scans the actor may see, matching the filter, whose
// transactions from does not see and to does: what became visible between the two ticks, in
// transaction id, then scan id order.
func (s *Store) LiveScans(ctx context.Context, a Actor, from, to Snapshot, f LiveScanFilter, limit int) ([]LiveScan, error) {
	var scans []LiveScan
	args := append(between(from, to, f.scanMatchParams(a)...), f.AfterXID, f.AfterID, limit)
	err := s.db.SelectContext(ctx, &scans, `
		SELECT `+scanColumns+`, write_xid
		FROM scans
		WHERE `+newlyVisible("write_xid")+`
		  AND `+liveScanMatch+`
		  AND (write_xid, id) > ($7::xid8, $8)
		ORDER BY write_xid, id
		LIMIT $9`, args...)
	return scans, wrap(err, "read the live scans")
}

// ScansSeenBy returns up to limit scans the actor may see, matching the filter, with an id
// above afterID that the snapshot sees (or that were logged before transaction ids were
// recorded), in id order: the log up to the oldest tick kept, for resuming from before it.
func (s *Store) ScansSeenBy(ctx context.Context, a Actor, snap Snapshot, afterID int64, f LiveScanFilter, limit int) ([]*Scan, error) {
	var scans []*Scan
	args := append([]any{afterID, snap, limit}, f.scanMatchParams(a)...)
	err := s.db.SelectContext(ctx, &scans, `
		SELECT `+scanColumns+`
		FROM scans
		WHERE id > $1
		  AND (write_xid IS NULL OR pg_visible_in_snapshot(write_xid, $2::pg_snapshot))
		  AND `+liveScanMatch+`
		ORDER BY id
		LIMIT $3`, args...)
	return scans, wrap(err, "read the scan log")
}

func kindParams(kinds []ScanKind) pq.StringArray {
	params := make(pq.StringArray, len(kinds))
	for i, k := range kinds {
		params[i] = string(k)
	}
	return params
}

// LiveBill is a bill as it is now and the transaction of its latest change.
type LiveBill struct {
	Bill
	ChangeXID uint64 `db:"change_xid"`
}

// LiveBills returns the bills whose latest change from does not see and to does, as they are
// now, in transaction id, then bill id order. A bill changed again since to is left for the
// tick that sees that change.
func (s *Store) LiveBills(ctx context.Context, from, to Snapshot) ([]LiveBill, error) {
	var bills []LiveBill
	err := s.db.SelectContext(ctx, &bills, `
		SELECT `+billColumns+`, change_xid
		FROM bills
		WHERE `+newlyVisible("change_xid")+`
		ORDER BY change_xid, id`, between(from, to)...)
	return bills, wrap(err, "read the changed bills")
}

// LiveBillDeletions returns the ids of the transactions that deleted bills, which from does
// not see and to does, lowest first, each once.
func (s *Store) LiveBillDeletions(ctx context.Context, from, to Snapshot) ([]uint64, error) {
	var xids []uint64
	err := s.db.SelectContext(ctx, &xids, `
		SELECT DISTINCT write_xid
		FROM bill_deletions
		WHERE `+newlyVisible("write_xid")+`
		ORDER BY write_xid`, between(from, to)...)
	return xids, wrap(err, "read the deleted bills")
}
