package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// Sampling rates while profiles are served: a blocking event is recorded about once per
// blockProfileRate nanoseconds spent blocked, and one mutex contention event in
// mutexProfileFraction. Both cost a little on every blocking operation, so they are on only
// with DEBUG_ADDR.
const (
	blockProfileRate     = 10_000
	mutexProfileFraction = 100
)

// listenProfiles binds DEBUG_ADDR when it is set (nil when it is not).
func listenProfiles(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	return listen(addr, "DEBUG_ADDR")
}

// serveProfiles serves the Go runtime profiles on their own listener (DEBUG_ADDR), never on
// the public one: CPU, block and mutex profiles are how a load test finds where the time
// goes (/debug/pprof/block and /debug/pprof/mutex are served by pprof.Index).
func serveProfiles(listener net.Listener, logger *slog.Logger) {
	runtime.SetBlockProfileRate(blockProfileRate)
	runtime.SetMutexProfileFraction(mutexProfileFraction)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("profiles served", "addr", listener.Addr().String())
	if err := server.Serve(listener); err != nil && !errors.Is(err, net.ErrClosed) {
		logger.Error("profiles server stopped", "error", err)
	}
}
