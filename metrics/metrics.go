// Package metrics defines every Prometheus metric TraceTrack exports, in one place, on its
// own registry (served at /metrics). Packages record into these directly: a metric is a
// process-wide fact, like a log line.
package metrics

import (
	"database/sql"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "tracetrack"

var (
	// Requests counts GraphQL operations by operation (type.rootField) and outcome code (OK
	// or the first error's code).
	Requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "graphql_requests_total",
		Help: "GraphQL operations by operation and outcome code.",
	}, []string{"operation", "code"})

	// Duration is the latency of GraphQL operations.
	Duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "graphql_duration_seconds",
		Help:    "GraphQL operation latency.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"operation"})

	// FastReads counts read queries by execution: served (by the fast path of app/fastreads.go)
	// or declined (left to gqlgen).
	FastReads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "graphql_fast_reads_total",
		Help: "Read queries by execution: served by the fast path, or declined to gqlgen.",
	}, []string{"execution"})

	// HTTPResponses counts every HTTP response by route and status (parse errors, 413s and
	// rate-limited requests never reach a GraphQL operation).
	HTTPResponses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_responses_total",
		Help: "HTTP responses by route and status code.",
	}, []string{"route", "code"})

	// QueryCache counts the query cache's lookups by result (hit: the document's shape was
	// cached, so the request was neither parsed nor validated; miss).
	QueryCache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "query_cache_lookups_total",
		Help: "Query cache lookups by result (hit or miss).",
	}, []string{"result"})

	// LoaderBatchSize is the number of keys per dataloader batch.
	LoaderBatchSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "dataloader_batch_size",
		Help:    "Keys per dataloader batch.",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500},
	}, []string{"loader"})

	// Websockets is the number of open websocket connections.
	Websockets = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "websockets_active", Help: "Open websocket connections.",
	})

	// Subscriptions is the number of active subscriptions by field.
	Subscriptions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "subscriptions_active", Help: "Active subscriptions by field.",
	}, []string{"field"})

	// Events counts live events by stage: published (received from PostgreSQL), delivered
	// (sent to a subscriber), dropped (a subscriber's buffer overflowed).
	Events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "live_events_total",
		Help: "Live events by stage: published, delivered, dropped.",
	}, []string{"stage"})

	// LoginFailures counts failed logins; Lockouts counts accounts locked by them.
	LoginFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "login_failures_total", Help: "Failed logins.",
	})
	Lockouts = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "account_lockouts_total", Help: "Accounts locked after repeated failed logins.",
	})

	// RateLimited counts requests refused by the rate limiter, by key kind (user or ip).
	RateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "rate_limited_total", Help: "Requests refused by the rate limiter.",
	}, []string{"kind"})
)

// Registry holds TraceTrack's metrics plus the Go runtime and process collectors.
var Registry = prometheus.NewRegistry()

func init() {
	Registry.MustRegister(Requests, Duration, FastReads, HTTPResponses, QueryCache, LoaderBatchSize, Websockets, Subscriptions,
		Events, LoginFailures, Lockouts, RateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// WatchPool exports the connection pool statistics of a database under the given name.
// Registering the same name twice (tests start many servers) keeps the first.
func WatchPool(db *sql.DB, name string) {
	_ = Registry.Register(collectors.NewDBStatsCollector(db, name))
}

// Handler serves the registry.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{})
}
