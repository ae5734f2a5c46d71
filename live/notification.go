package live

import (
	"fmt"
	"strconv"
	"strings"
)

// Channel is the PostgreSQL NOTIFY channel of migration 00006.
const Channel = "tt_live"

// notification is one NOTIFY payload of migration 00006: a range of scan ids inserted by one
// statement, or the ids of bills one statement changed.
type notification struct {
	scansFrom, scansTo int64
	bills              []int64
}

// parseNotification reads "s:<min>:<max>" or "b:<id>,<id>,...".
func parseNotification(payload string) (notification, error) {
	kind, rest, ok := strings.Cut(payload, ":")
	if !ok {
		return notification{}, fmt.Errorf("live: notification %q has no kind", payload)
	}
	switch kind {
	case "s":
		lo, hi, ok := strings.Cut(rest, ":")
		from, err1 := strconv.ParseInt(lo, 10, 64)
		to, err2 := strconv.ParseInt(hi, 10, 64)
		if !ok || err1 != nil || err2 != nil || from < 1 || to < from {
			return notification{}, fmt.Errorf("live: bad scan range %q", payload)
		}
		return notification{scansFrom: from, scansTo: to}, nil
	case "b":
		fields := strings.Split(rest, ",")
		ids := make([]int64, len(fields))
		for i, f := range fields {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil || id < 1 {
				return notification{}, fmt.Errorf("live: bad bill id in %q", payload)
			}
			ids[i] = id
		}
		return notification{bills: ids}, nil
	}
	return notification{}, fmt.Errorf("live: unknown notification kind in %q", payload)
}
