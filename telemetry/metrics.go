package telemetry

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
)

// Metric names shared by transport and discovery (see docs/metrics.md).
const (
	MetricHTTPServerDuration = "http_server_request_duration_seconds"
	MetricHTTPClientDuration = "http_client_request_duration_seconds"
	MetricRPCServerDuration  = "rpc_server_duration_seconds"
)

// Label values used when the real value would be unbounded.
const (
	// MethodOther replaces an HTTP method that is not one of the nine standard ones.
	MethodOther = "_OTHER"
	// RouteUnmatched is the route of a request no pattern matched.
	RouteUnmatched = "unmatched"
	// StatusError is the status_code of a client request that got no response.
	StatusError = "error"
)

// DurationBuckets returns the histogram buckets, in seconds, that the OpenTelemetry
// semantic conventions advise for http.server.request.duration and its client and RPC
// counterparts: 5 ms to 10 s. Each call returns a new slice.
func DurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// NormalizeMethod returns m when it is one of the nine standard HTTP methods (exact,
// case-sensitive, as the semantic conventions say) and [MethodOther] otherwise, so a
// client cannot create label values. It does not allocate.
func NormalizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch:
		return m
	}
	return MethodOther
}

// RouteFromPattern turns a net/http ServeMux pattern (r.Pattern after routing) into a
// route label: the method prefix is dropped ("GET /items/{id}" becomes "/items/{id}") and
// an empty pattern, meaning no route matched, becomes [RouteUnmatched].
func RouteFromPattern(pattern string) string {
	if pattern == "" {
		return RouteUnmatched
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return strings.TrimLeft(pattern[i+1:], " \t")
	}
	return pattern
}

// statusCodes holds the label text of every valid status code, so that observing
// does not allocate; a status outside 100-599 maps to "_OTHER".
type statusCodes [600]string

func newStatusCodes() *statusCodes {
	var s statusCodes
	for i := 100; i < len(s); i++ {
		s[i] = strconv.Itoa(i)
	}
	return &s
}

func (s *statusCodes) label(code int) string {
	if code < 100 || code >= len(s) {
		return "_OTHER"
	}
	return s[code]
}

// HTTPServerMetrics records http_server_request_duration_seconds{method,route,status_code}.
// Build it with [NewHTTPServerMetrics]; a nil *HTTPServerMetrics records nothing. It is
// safe for concurrent use.
type HTTPServerMetrics struct {
	series *seriesCache
	codes  *statusCodes
}

// NewHTTPServerMetrics registers the histogram on reg; a nil reg gives a recorder that
// records nothing. Registering twice on one registry returns a recorder sharing the
// histogram registered first.
func NewHTTPServerMetrics(reg prometheus.Registerer) (*HTTPServerMetrics, error) {
	vec, err := registerHistogram(reg, prometheus.HistogramOpts{
		Name:    MetricHTTPServerDuration,
		Help:    "Duration of HTTP server requests, by method, route pattern and status code.",
		Buckets: DurationBuckets(),
	}, "method", "route", "status_code")
	if err != nil {
		return nil, err
	}
	return &HTTPServerMetrics{series: newSeriesCache(vec, 3), codes: newStatusCodes()}, nil
}

// Observe records one request. method is normalized with [NormalizeMethod]; route must be
// a pattern or [RouteUnmatched], never a raw path. When the span in ctx is sampled, the
// observation carries its trace id as an exemplar (at most one per bucket and series
// per [ExemplarInterval]).
func (m *HTTPServerMetrics) Observe(ctx context.Context, method, route string, status int, d time.Duration) {
	if m == nil || m.series == nil {
		return
	}
	m.series.observe(trace.SpanContextFromContext(ctx), [4]string{NormalizeMethod(method), route, m.codes.label(status)}, d)
}

// observe is Observe for a caller that holds the request's span context (the
// middleware): it spares a walk up the context chain.
func (m *HTTPServerMetrics) observe(sc trace.SpanContext, method, route string, status int, d time.Duration) {
	if m == nil || m.series == nil {
		return
	}
	m.series.observe(sc, [4]string{method, route, m.codes.label(status)}, d)
}

// HTTPClientMetrics records http_client_request_duration_seconds{method,server_address,status_code}.
// Build it with [NewHTTPClientMetrics]; a nil *HTTPClientMetrics records nothing. It is
// safe for concurrent use.
type HTTPClientMetrics struct {
	series *seriesCache
	codes  *statusCodes
}

// NewHTTPClientMetrics registers the histogram on reg; a nil reg records nothing.
func NewHTTPClientMetrics(reg prometheus.Registerer) (*HTTPClientMetrics, error) {
	vec, err := registerHistogram(reg, prometheus.HistogramOpts{
		Name:    MetricHTTPClientDuration,
		Help:    "Duration of outgoing HTTP requests, by method, server address and status code (\"error\" when no response came).",
		Buckets: DurationBuckets(),
	}, "method", "server_address", "status_code")
	if err != nil {
		return nil, err
	}
	return &HTTPClientMetrics{series: newSeriesCache(vec, 3), codes: newStatusCodes()}, nil
}

// Observe records one outgoing request. serverAddress is the host (and port) called; it
// must come from the service's own configuration or discovery, never from a client's
// input. status 0 means no response (recorded as [StatusError]).
func (m *HTTPClientMetrics) Observe(ctx context.Context, method, serverAddress string, status int, d time.Duration) {
	if m == nil || m.series == nil {
		return
	}
	code := StatusError
	if status != 0 {
		code = m.codes.label(status)
	}
	m.series.observe(trace.SpanContextFromContext(ctx), [4]string{NormalizeMethod(method), serverAddress, code}, d)
}

// RPCServerMetrics records rpc_server_duration_seconds{system,service,method,code}.
// Build it with [NewRPCServerMetrics]; a nil *RPCServerMetrics records nothing. It is
// safe for concurrent use.
type RPCServerMetrics struct {
	series *seriesCache
}

// NewRPCServerMetrics registers the histogram on reg; a nil reg records nothing.
func NewRPCServerMetrics(reg prometheus.Registerer) (*RPCServerMetrics, error) {
	vec, err := registerHistogram(reg, prometheus.HistogramOpts{
		Name:    MetricRPCServerDuration,
		Help:    "Duration of RPCs served, by RPC system (grpc), service, method and status code name (OK, NOT_FOUND...).",
		Buckets: DurationBuckets(),
	}, "system", "service", "method", "code")
	if err != nil {
		return nil, err
	}
	return &RPCServerMetrics{series: newSeriesCache(vec, 4)}, nil
}

// Observe records one RPC. service and method must be registered ones (a gRPC
// interceptor only sees those, unless the server has an unknown-service handler, whose
// calls should be recorded as service "_OTHER").
func (m *RPCServerMetrics) Observe(ctx context.Context, system, service, method, code string, d time.Duration) {
	if m == nil || m.series == nil {
		return
	}
	m.series.observe(trace.SpanContextFromContext(ctx), [4]string{system, service, method, code}, d)
}

// ExemplarInterval is the shortest time between two exemplars replacing each other in
// one bucket of one series. Prometheus keeps only the latest exemplar of a bucket per
// scrape, so attaching one to every sampled request would cost time (building an
// exemplar allocates) without showing more.
const ExemplarInterval = time.Second

// maxFastSeries is how many series a seriesCache keeps in its lock-free map; series
// past it (a histogram with that many is already a cardinality problem) go to a map
// under a mutex, so that copying the lock-free map stays cheap.
const maxFastSeries = 1024

// seriesCache holds, per series (its label values, unused trailing ones empty), the
// histogram's observer and the exemplar times of its buckets, so that observing hashes
// the label values once with Go's map hash instead of with client_golang's
// WithLabelValues (which validates and hashes them on every call), and never allocates
// once the series exists. The label values are bounded by the callers' contracts
// (normalized methods, route patterns, status codes), so the maps are too. Safe for
// concurrent use.
type seriesCache struct {
	vec     *prometheus.HistogramVec
	labels  int // how many of a key's values are labels
	buckets []float64
	now     func() time.Time // time.Now; tests inject a clock

	// fast is read without a lock and replaced (copied with one more entry) under mu.
	fast atomic.Pointer[map[[4]string]*series]

	// mu guards slow and the replacement of fast.
	mu   sync.Mutex
	slow map[[4]string]*series
}

// series is one label combination: its observer and, per bucket (the extra slot is
// +Inf), the unix nanoseconds of its last exemplar.
type series struct {
	obs  prometheus.Observer
	last []atomic.Int64
}

func newSeriesCache(vec *prometheus.HistogramVec, labels int) *seriesCache {
	if vec == nil {
		return nil
	}
	c := &seriesCache{vec: vec, labels: labels, buckets: DurationBuckets(), now: time.Now, slow: map[[4]string]*series{}}
	c.fast.Store(&map[[4]string]*series{})
	return c
}

// get returns the series of key, creating it on first use.
func (c *seriesCache) get(key [4]string) *series {
	if s, ok := (*c.fast.Load())[key]; ok {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fast := *c.fast.Load()
	if s, ok := fast[key]; ok {
		return s
	}
	if s, ok := c.slow[key]; ok {
		return s
	}
	s := &series{obs: c.vec.WithLabelValues(key[:c.labels]...), last: make([]atomic.Int64, len(c.buckets)+1)}
	if len(fast) >= maxFastSeries {
		c.slow[key] = s
		return s
	}
	next := make(map[[4]string]*series, len(fast)+1)
	for k, v := range fast {
		next[k] = v
	}
	next[key] = s
	c.fast.Store(&next)
	return s
}

// observe records d in key's series, with sc's trace id as an exemplar when sc is sampled
// and the series' bucket allows one.
func (c *seriesCache) observe(sc trace.SpanContext, key [4]string, d time.Duration) {
	s := c.get(key)
	v := d.Seconds()
	if sc.IsSampled() && c.allow(s, v) {
		if eo, ok := s.obs.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(v, prometheus.Labels{"trace_id": sc.TraceID().String()})
			return
		}
	}
	s.obs.Observe(v)
}

// allow reports whether an observation of v in s may carry an exemplar: the first in
// its bucket, then one per ExemplarInterval.
func (c *seriesCache) allow(s *series, v float64) bool {
	slot := &s.last[sort.SearchFloat64s(c.buckets, v)]
	now := c.now().UnixNano()
	prev := slot.Load()
	if prev != 0 && now-prev < int64(ExemplarInterval) {
		return false
	}
	return slot.CompareAndSwap(prev, now)
}

func registerHistogram(reg prometheus.Registerer, opts prometheus.HistogramOpts, labels ...string) (*prometheus.HistogramVec, error) {
	if reg == nil {
		return nil, nil
	}
	vec := prometheus.NewHistogramVec(opts, labels)
	if err := reg.Register(vec); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
				return existing, nil
			}
		}
		return nil, errors.New("telemetry: registering " + opts.Name + ": " + err.Error())
	}
	return vec, nil
}

// MetricsHandler serves g in the Prometheus text format, or in OpenMetrics (with
// exemplars) when the scraper asks for it, as Prometheus does when exemplar storage is
// on. Gathering errors are reported in the response and the metrics that could be
// gathered are still served.
func MetricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
	})
}
