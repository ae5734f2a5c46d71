package live

import (
	"log/slog"
	"sync"
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
	pq      *pq.Listener
	holder  SeriesHolder
	logger  *slog.Logger
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// WatchLabelSeries opens the LISTEN connection and waits up to ready for it, so that a change
// that commits after it returns is heard; past that it goes on connecting in the background
// (and the holder rereads once it is up).
func WatchLabelSeries(databaseURL string, logger *slog.Logger, ready time.Duration, holder SeriesHolder) *LabelSeriesWatcher {
	w := &LabelSeriesWatcher{holder: holder, logger: logger, stop: make(chan struct{}), stopped: make(chan struct{})}
	w.pq = pq.NewListener(withApplicationName(databaseURL, LabelSeriesApplicationName),
		100*time.Millisecond, 5*time.Second, w.onEvent)
	connected := make(chan struct{})
	go w.run(connected)
	select {
	case <-connected:
	case <-time.After(ready):
		logger.Warn("live: label series LISTEN connection not up yet; series are reread when it is", "waited", ready)
	}
	return w
}

func (w *LabelSeriesWatcher) onEvent(ev pq.ListenerEventType, err error) {
	if ev == pq.ListenerEventDisconnected {
		w.logger.Warn("live: label series LISTEN connection lost; reconnecting", "err", err)
	}
}

// Close ends the LISTEN connection; calls after the first do nothing.
func (w *LabelSeriesWatcher) Close() {
	w.once.Do(func() {
		close(w.stop)
		_ = w.pq.Close()
		<-w.stopped
	})
}

func (w *LabelSeriesWatcher) run(connected chan struct{}) {
	defer close(w.stopped)
	if err := w.pq.Listen(db.LabelSeriesChannel); err != nil {
		return // closed before it ever connected
	}
	// what changed before the connection was up went unheard
	w.holder.LabelSeriesChanged()
	close(connected)
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-w.stop:
			return
		case _, open := <-w.pq.Notify:
			if !open {
				return // closed
			}
			// a notification, or a reconnection (nil) after which changes may have gone
			// unheard: either way the series are reread
			w.holder.LabelSeriesChanged()
		case <-ping.C:
			go func() { _ = w.pq.Ping() }()
		}
	}
}
