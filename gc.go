package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// The garbage collector's defaults. Go's own (GOGC=100, no memory limit) collect whenever
// the heap doubles; this server's live heap is small (tens of MB) and nearly all it
// allocates dies with the request, so at GOGC=100 a busy instance spends a large share of a
// core collecting. GOGC=400 collects a quarter as often for a heap up to five times the live
// one, and the memory limit (3/4 of the container's, when it has one) makes the collector
// work harder rather than let that heap outgrow the container. GOGC and GOMEMLIMIT, the
// runtime's own variables, override them (bench/README.md has the measurements).
const defaultGCPercent = 400

// gcSettings are GOGC and GOMEMLIMIT as the runtime reads them, with this server's defaults.
type gcSettings struct {
	// Percent is GOGC; a negative value is "off".
	Percent int
	// MemoryLimit is GOMEMLIMIT in bytes; math.MaxInt64 is "off".
	MemoryLimit int64
}

// apply sets the collector; the runtime read the variables already, so this only changes
// what they left at Go's defaults, and sets them to what they say otherwise.
func (g gcSettings) apply() {
	debug.SetGCPercent(g.Percent)
	debug.SetMemoryLimit(g.MemoryLimit)
}

// defaultMemoryLimit is 3/4 of the cgroup (v2) memory limit, or "off" without one.
func defaultMemoryLimit() string {
	raw, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return "off"
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil || limit <= 0 {
		return "off" // "max": no limit
	}
	return strconv.FormatInt(limit/4*3, 10) + "B"
}

// gcPercent is GOGC: a percentage, or off.
type gcPercent struct{ p *int }

func (v gcPercent) set(raw string) error {
	if strings.EqualFold(raw, "off") {
		*v.p = -1
		return nil
	}
	return wholeNumber[int]{v.p, 10, 100_000}.set(raw)
}

func (v gcPercent) accepts() string { return "10-100000 (percent of the live heap), or off" }

// memoryLimit is GOMEMLIMIT: a size in the runtime's units, or off.
type memoryLimit struct{ p *int64 }

var memoryUnits = []struct {
	suffix string
	bytes  int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func (v memoryLimit) set(raw string) error {
	if strings.EqualFold(raw, "off") {
		*v.p = math.MaxInt64
		return nil
	}
	for _, u := range memoryUnits {
		digits, ok := strings.CutSuffix(raw, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("is not a positive whole number of bytes")
		}
		if n > math.MaxInt64/u.bytes {
			return errors.New("is out of range")
		}
		*v.p = n * u.bytes
		return nil
	}
	return fmt.Errorf("has no unit")
}

func (v memoryLimit) accepts() string {
	return "a whole number with a unit B, KiB, MiB, GiB or TiB (such as 1536MiB), or off"
}
