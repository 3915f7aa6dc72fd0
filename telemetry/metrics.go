package telemetry

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// DurationBuckets returns the histogram buckets, in seconds, that the OpenTelemetry
// semantic conventions advise for http.server.request.duration and its client and RPC
// counterparts: 5 ms to 10 s. Each call returns a new slice.
func DurationBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
}

// LabelName returns the Prometheus label name of an OpenTelemetry attribute key, as
// Prometheus shows attributes the OpenTelemetry SDK exports: every character that may
// not appear in a label name becomes "_" (http.response.status_code becomes
// http_response_status_code), and a name starting with a digit gets the prefix "key_".
// Instrumentation names its labels with the semantic conventions' keys through it.
func LabelName(key attribute.Key) string {
	b := []byte(key)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		return "key_" + string(b)
	}
	return string(b)
}

// MaxHistogramLabels is the most labels a [Histogram] takes.
const MaxHistogramLabels = 6

// Histogram is a Prometheus histogram of durations whose observations carry the trace
// id of a sampled span as an exemplar (at most one per bucket and series per
// [ExemplarInterval]) and cost no allocation once their series exists. The transports'
// request-duration metrics are built on it. Build it with [NewHistogram]; a nil
// *Histogram records nothing. It is safe for concurrent use.
type Histogram struct {
	series *seriesCache
}

// NewHistogram registers a histogram vector of opts with the given label names on reg
// (opts.Buckets nil means [DurationBuckets]) and returns it; a nil reg gives a nil
// *Histogram, which records nothing. Registering the same name twice on one registry
// returns a Histogram sharing the vector registered first; any other registration
// error names the metric. At most [MaxHistogramLabels] labels.
func NewHistogram(reg prometheus.Registerer, opts prometheus.HistogramOpts, labels ...string) (*Histogram, error) {
	if len(labels) > MaxHistogramLabels {
		return nil, errors.New("telemetry: histogram " + opts.Name + ": " + strconv.Itoa(len(labels)) + " labels, at most " + strconv.Itoa(MaxHistogramLabels))
	}
	if opts.Buckets == nil {
		opts.Buckets = DurationBuckets()
	}
	vec, err := registerHistogram(reg, opts, labels...)
	if err != nil || vec == nil {
		return nil, err
	}
	return &Histogram{series: newSeriesCache(vec, len(labels), opts.Buckets)}, nil
}

// Observe records d in the series of values (one per label, in the order of
// NewHistogram's labels; label values must be bounded), with sc's trace id as an
// exemplar when sc is sampled. It panics when given more values than labels.
func (h *Histogram) Observe(sc trace.SpanContext, d time.Duration, values ...string) {
	if h == nil {
		return
	}
	var key [MaxHistogramLabels]string
	if len(values) > h.series.labels {
		panic("telemetry: Histogram.Observe: " + strconv.Itoa(len(values)) + " label values for " + strconv.Itoa(h.series.labels) + " labels")
	}
	copy(key[:], values)
	h.series.observe(sc, key, d)
}

// Series returns the series of values (as [Histogram.Observe] takes them), created on
// first use, for a caller that keeps series in a cache of its own, keyed more cheaply
// than by label strings; nil for a nil Histogram.
func (h *Histogram) Series(values ...string) *Series {
	if h == nil {
		return nil
	}
	var key [MaxHistogramLabels]string
	if len(values) > h.series.labels {
		panic("telemetry: Histogram.Series: " + strconv.Itoa(len(values)) + " label values for " + strconv.Itoa(h.series.labels) + " labels")
	}
	copy(key[:], values)
	return &Series{c: h.series, s: h.series.get(key)}
}

// Series is one series of a [Histogram]; a nil *Series records nothing. It is safe for
// concurrent use.
type Series struct {
	c *seriesCache
	s *series
}

// Observe records d, with sc's trace id as an exemplar when sc is sampled (as
// [Histogram.Observe] does). It does not allocate but for an exemplar.
func (s *Series) Observe(sc trace.SpanContext, d time.Duration) {
	if s == nil {
		return
	}
	s.c.record(s.s, sc, d)
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
	fast atomic.Pointer[map[[MaxHistogramLabels]string]*series]

	// mu guards slow and the replacement of fast.
	mu   sync.Mutex
	slow map[[MaxHistogramLabels]string]*series
}

// series is one label combination: its observer and, per bucket (the extra slot is
// +Inf), the unix nanoseconds of its last exemplar.
type series struct {
	obs  prometheus.Observer
	last []atomic.Int64
}

func newSeriesCache(vec *prometheus.HistogramVec, labels int, buckets []float64) *seriesCache {
	c := &seriesCache{vec: vec, labels: labels, buckets: buckets, now: time.Now, slow: map[[MaxHistogramLabels]string]*series{}}
	c.fast.Store(&map[[MaxHistogramLabels]string]*series{})
	return c
}

// get returns the series of key, creating it on first use.
func (c *seriesCache) get(key [MaxHistogramLabels]string) *series {
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
	next := make(map[[MaxHistogramLabels]string]*series, len(fast)+1)
	for k, v := range fast {
		next[k] = v
	}
	next[key] = s
	c.fast.Store(&next)
	return s
}

// observe records d in key's series, with sc's trace id as an exemplar when sc is sampled
// and the series' bucket allows one.
func (c *seriesCache) observe(sc trace.SpanContext, key [MaxHistogramLabels]string, d time.Duration) {
	c.record(c.get(key), sc, d)
}

// record records d in s, with sc's trace id as an exemplar when allowed.
func (c *seriesCache) record(s *series, sc trace.SpanContext, d time.Duration) {
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
