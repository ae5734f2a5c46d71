package live

// seenWindow remembers the scan ids published in the last `size` ids below the highest one.
//
// Why a window and not just "the highest id seen": scan ids come from a sequence at insert,
// but transactions commit in any order, so id 7 can become visible after id 9 was published.
// Re-reading "id > 9" after a lost LISTEN connection would skip 7 for ever. Instead the hub
// re-reads every id above high-water - size and skips the ids it has already published. The
// window must be wider than the ids handed out while a scan transaction is open; scanning
// transactions run for milliseconds (statement_timeout caps them at seconds), and the default
// window of 10,000 ids is 100 seconds of scanning at 100 scans a second.
//
// An id at or below high-water - size is treated as already published: by the rule above it
// cannot be new. That bounds the memory to about 2 x size ids.
type seenWindow struct {
	size int64
	high int64
	ids  map[int64]struct{}
}

func newSeenWindow(size, high int64) *seenWindow {
	return &seenWindow{size: size, high: high, ids: make(map[int64]struct{})}
}

// floor is the id at or below which everything counts as seen.
func (w *seenWindow) floor() int64 { return w.high - w.size }

// add records id and reports whether it is new.
func (w *seenWindow) add(id int64) bool {
	if id <= w.floor() {
		return false
	}
	if _, seen := w.ids[id]; seen {
		return false
	}
	w.ids[id] = struct{}{}
	if id > w.high {
		w.high = id
	}
	if int64(len(w.ids)) > 2*w.size {
		w.prune()
	}
	return true
}

func (w *seenWindow) prune() {
	floor := w.floor()
	for id := range w.ids {
		if id <= floor {
			delete(w.ids, id)
		}
	}
}
