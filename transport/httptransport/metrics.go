package httptransport

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/telemetry"
)

// Names of the request-duration histograms (docs/metrics.md): the OpenTelemetry
// semantic conventions' http.server.request.duration and http.client.request.duration
// as Prometheus shows them.
const (
	MetricServerDuration = "http_server_request_duration_seconds"
	MetricClientDuration = "http_client_request_duration_seconds"
)

// Label values used when the real value would be unbounded.
const (
	// MethodOther replaces an HTTP method that is not one of the nine standard ones.
	MethodOther = "_OTHER"
	// RouteUnmatched is the route of a request no pattern matched.
	RouteUnmatched = "unmatched"
)

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

// Label names, from the semantic conventions' attribute keys.
var (
	labelMethod    = telemetry.LabelName(semconv.HTTPRequestMethodKey)
	labelRoute     = telemetry.LabelName(semconv.HTTPRouteKey)
	labelStatus    = telemetry.LabelName(semconv.HTTPResponseStatusCodeKey)
	labelErrorType = telemetry.LabelName(semconv.ErrorTypeKey)
	labelScheme    = telemetry.LabelName(semconv.URLSchemeKey)
	labelAddress   = telemetry.LabelName(semconv.ServerAddressKey)
	labelPort      = telemetry.LabelName(semconv.ServerPortKey)
)

// ServerMetrics records http_server_request_duration_seconds{http_request_method,
// http_route, http_response_status_code, error_type, url_scheme}. error_type is the
// status code of a 5xx answer and empty otherwise. Build it with [NewServerMetrics]; a
// nil *ServerMetrics records nothing. It is safe for concurrent use.
type ServerMetrics struct {
	hist  *telemetry.Histogram
	codes *statusCodes

	// series caches the histogram's series by a key cheaper to hash than the five
	// label strings (the error type follows from the status): fast is read without a
	// lock and replaced, copied with one more entry, under mu. The label values are
	// bounded (normalized methods, route patterns, status codes), so the map is too.
	fast atomic.Pointer[map[serverKey]*telemetry.Series]
	mu   sync.Mutex
}

// maxCachedSeries bounds ServerMetrics' lock-free map, as telemetry.Histogram bounds
// its own.
const maxCachedSeries = 1024

// serverKey identifies a series of ServerMetrics.
type serverKey struct {
	method, route string
	status        int
	https         bool
}

// NewServerMetrics registers the histogram on reg; a nil reg gives a recorder that
// records nothing. Registering twice on one registry returns a recorder sharing the
// histogram registered first.
func NewServerMetrics(reg prometheus.Registerer) (*ServerMetrics, error) {
	h, err := telemetry.NewHistogram(reg, prometheus.HistogramOpts{
		Name: MetricServerDuration,
		Help: "Duration of HTTP server requests, by method, route pattern, status code, error type (the status of a 5xx) and scheme.",
	}, labelMethod, labelRoute, labelStatus, labelErrorType, labelScheme)
	if err != nil || h == nil {
		return nil, err
	}
	m := &ServerMetrics{hist: h, codes: newStatusCodes()}
	m.fast.Store(&map[serverKey]*telemetry.Series{})
	return m, nil
}

// Observe records one request. method is normalized with [NormalizeMethod]; route must
// be a pattern or [RouteUnmatched], never a raw path; scheme is "http" or "https".
// When the span in ctx is sampled, the observation carries its trace id as an
// exemplar (at most one per bucket and series per telemetry.ExemplarInterval).
func (m *ServerMetrics) Observe(ctx context.Context, method, route, scheme string, status int, d time.Duration) {
	m.observe(trace.SpanContextFromContext(ctx), NormalizeMethod(method), route, scheme, status, d)
}

// observe is Observe for a caller that holds the request's span context and the
// normalized method (the middleware): it spares a walk up the context chain.
func (m *ServerMetrics) observe(sc trace.SpanContext, method, route, scheme string, status int, d time.Duration) {
	if m == nil {
		return
	}
	key := serverKey{method: method, route: route, status: status, https: scheme == "https"}
	s, ok := (*m.fast.Load())[key]
	if !ok {
		s = m.series(key, scheme)
	}
	s.Observe(sc, d)
}

// series returns the series of key, creating it on first use.
func (m *ServerMetrics) series(key serverKey, scheme string) *telemetry.Series {
	m.mu.Lock()
	defer m.mu.Unlock()
	fast := *m.fast.Load()
	if s, ok := fast[key]; ok {
		return s
	}
	code := m.codes.label(key.status)
	errType := ""
	if key.status >= 500 {
		errType = code
	}
	s := m.hist.Series(key.method, key.route, code, errType, scheme)
	if len(fast) >= maxCachedSeries {
		return s // the histogram's own cache holds it; copying a larger map costs more
	}
	next := make(map[serverKey]*telemetry.Series, len(fast)+1)
	for k, v := range fast {
		next[k] = v
	}
	next[key] = s
	m.fast.Store(&next)
	return s
}

// ClientMetrics records http_client_request_duration_seconds{http_request_method,
// server_address, server_port, http_response_status_code, error_type}. Build it with
// [NewClientMetrics]; a nil *ClientMetrics records nothing. It is safe for concurrent
// use.
type ClientMetrics struct {
	hist  *telemetry.Histogram
	codes *statusCodes
}

// NewClientMetrics registers the histogram on reg; a nil reg records nothing.
func NewClientMetrics(reg prometheus.Registerer) (*ClientMetrics, error) {
	h, err := telemetry.NewHistogram(reg, prometheus.HistogramOpts{
		Name: MetricClientDuration,
		Help: "Duration of outgoing HTTP requests until the response header, by method, server address and port, status code (empty when no response came) and error type.",
	}, labelMethod, labelAddress, labelPort, labelStatus, labelErrorType)
	if err != nil || h == nil {
		return nil, err
	}
	return &ClientMetrics{hist: h, codes: newStatusCodes()}, nil
}

// Observe records one outgoing request. serverAddress and serverPort are the host and
// port called (port as text, "" when unknown); they must come from the service's own
// configuration or discovery, never from a client's input. status 0 means no response
// came, and errorType then says why (see [ErrorType]); a status of 400 or more is its
// own error type.
func (m *ClientMetrics) Observe(ctx context.Context, method, serverAddress, serverPort string, status int, errorType string, d time.Duration) {
	if m == nil {
		return
	}
	code := ""
	if status != 0 {
		code = m.codes.label(status)
		if status >= 400 {
			errorType = code
		}
	}
	m.hist.Observe(trace.SpanContextFromContext(ctx), d, NormalizeMethod(method), serverAddress, serverPort, code, errorType)
}
