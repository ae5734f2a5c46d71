package main

import (
	"log/slog"
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

// serveProfiles serves the Go runtime profiles on their own address (DEBUG_ADDR), never on
// the public listener: CPU, block and mutex profiles are how a load test finds where the time
// goes (/debug/pprof/block and /debug/pprof/mutex are served by pprof.Index).
func serveProfiles(addr string, logger *slog.Logger) {
	runtime.SetBlockProfileRate(blockProfileRate)
	runtime.SetMutexProfileFraction(mutexProfileFraction)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	server := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("profiles served", "addr", addr)
	if err := server.ListenAndServe(); err != nil {
		logger.Error("profiles server stopped", "error", err)
	}
}
