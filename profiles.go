package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveProfiles serves the Go runtime profiles on their own address (DEBUG_ADDR), never on
// the public listener: CPU and block profiles are how a load test finds where the time goes.
func serveProfiles(addr string, logger *slog.Logger) {
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
