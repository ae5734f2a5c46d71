package live

import (
	"log/slog"
	"time"

	"github.com/lib/pq"

	"tracetrack/db"
)

// LabelSeriesApplicationName names the label series LISTEN connection in pg_stat_activity.
const LabelSeriesApplicationName = "tracetrack_label_series"

// SeriesHolder holds the label series in memory (the store).
type SeriesHolder interface {
	// LabelSeriesChanged says a series change committed, or that changes may have gone unheard.
	LabelSeriesChanged()
}

// LabelSeriesWatcher turns the NOTIFYs of migration 00014 (channel db.LabelSeriesChannel)
// into LabelSeriesChanged calls, so a series an admin adds on one instance classifies scans
// on every instance within milliseconds of its commit. A change is rare (a few a year): a
// LISTEN connection of its own keeps it from waiting behind a burst of scan events.
type LabelSeriesWatcher struct {
	conn *listenConn
}

// WatchLabelSeries opens the LISTEN connection and waits up to ready for it, so that a change
// that commits after it returns is heard; past that it goes on connecting in the background
// (and the holder rereads once it is up).
func WatchLabelSeries(databaseURL string, logger *slog.Logger, ready time.Duration, holder SeriesHolder) *LabelSeriesWatcher {
	return &LabelSeriesWatcher{conn: listen(databaseURL, LabelSeriesApplicationName, db.LabelSeriesChannel, "label series", logger, ready,
		listenHooks{
			// what changed before the connection was up went unheard
			up: holder.LabelSeriesChanged,
			// a notification, or a reconnection (nil) after which changes may have gone
			// unheard: either way the series are reread
			notified:  func(*pq.Notification, <-chan *pq.Notification) { holder.LabelSeriesChanged() },
			meanwhile: "series are reread when it is",
		})}
}

// Close ends the LISTEN connection within closeWait; calls after the first do nothing.
func (w *LabelSeriesWatcher) Close() { w.conn.close() }
