package telemetry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// TestExemplarInterval proves a bucket's exemplar is replaced at most once per
// ExemplarInterval, while other buckets and series get their first exemplar at once.
func TestExemplarInterval(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := testHistogram(t, reg)
	now := time.Unix(1_700_000_000, 0)
	m.series.now = func() time.Time { return now }
	tp, _ := newTP(t)
	sampled := func() (context.Context, string) {
		ctx, span := tp.Tracer("t").Start(context.Background(), "op")
		span.End()
		return ctx, span.SpanContext().TraceID().String()
	}
	exemplar := func(route string, le float64) string {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			for _, mm := range mf.GetMetric() {
				for _, lp := range mm.GetLabel() {
					if lp.GetName() == "path" && lp.GetValue() == route {
						for _, b := range mm.GetHistogram().GetBucket() {
							if b.GetUpperBound() == le && b.GetExemplar() != nil {
								return b.GetExemplar().GetLabel()[0].GetValue()
							}
						}
					}
				}
			}
		}
		return ""
	}
	ctx1, id1 := sampled()
	m.Observe(trace.SpanContextFromContext(ctx1), 3*time.Millisecond, "GET", "/a", "200")
	ctx2, id2 := sampled()
	m.Observe(trace.SpanContextFromContext(ctx2), 4*time.Millisecond, "GET", "/a", "200") // same bucket, too soon
	if got := exemplar("/a", 0.005); got != id1 {
		t.Errorf("got exemplar %s, want the first %s kept within the interval", got, id1)
	}
	m.Observe(trace.SpanContextFromContext(ctx2), 2*time.Second, "GET", "/a", "200") // other bucket: first one goes in
	if got := exemplar("/a", 2.5); got != id2 {
		t.Errorf("got exemplar %s in the 2.5 s bucket, want %s", got, id2)
	}
	m.Observe(trace.SpanContextFromContext(ctx2), 3*time.Millisecond, "GET", "/b", "200") // other series
	if got := exemplar("/b", 0.005); got != id2 {
		t.Errorf("got exemplar %s for /b, want %s", got, id2)
	}
	now = now.Add(ExemplarInterval)
	ctx3, id3 := sampled()
	m.Observe(trace.SpanContextFromContext(ctx3), 3*time.Millisecond, "GET", "/a", "200")
	if got := exemplar("/a", 0.005); got != id3 {
		t.Errorf("got exemplar %s after the interval, want the newest %s", got, id3)
	}
}

// TestSeriesCacheManySeries proves that observations land in the right series past the
// lock-free cache's size, and from many goroutines at once.
func TestSeriesCacheManySeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := testHistogram(t, reg)
	const routes = maxFastSeries + 200
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range routes {
				m.Observe(trace.SpanContext{}, time.Millisecond, "GET", fmt.Sprintf("/r%d", (i+g*300)%routes), "200")
			}
		})
	}
	wg.Wait()
	for _, i := range []int{0, maxFastSeries - 1, maxFastSeries, routes - 1} {
		labels := map[string]string{"method": "GET", "path": fmt.Sprintf("/r%d", i), "status": "200"}
		if got := histCount(t, reg, "test_duration_seconds", labels); got != 4 {
			t.Errorf("got %d observations for %v, want 4", got, labels)
		}
	}
	if got := testutil.CollectAndCount(reg, "test_duration_seconds"); got != routes {
		t.Errorf("got %d series, want %d", got, routes)
	}
	if got := len(*m.series.fast.Load()); got != maxFastSeries {
		t.Errorf("got %d series in the lock-free map, want %d", got, maxFastSeries)
	}
}

// TestHistogramEmptyLabelValue proves an empty label value in the middle of the key is
// kept as a label, not taken for the end of the labels, and that fewer values than
// labels leave the rest empty.
func TestHistogramEmptyLabelValue(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := testHistogram(t, reg)
	m.Observe(trace.SpanContext{}, time.Millisecond, "GET", "", "204")
	m.Observe(trace.SpanContext{}, time.Millisecond, "GET")
	if got := histCount(t, reg, "test_duration_seconds", map[string]string{"method": "GET", "path": "", "status": "204"}); got != 1 {
		t.Errorf("got %d observations, want 1", got)
	}
	if got := histCount(t, reg, "test_duration_seconds", map[string]string{"method": "GET", "path": "", "status": ""}); got != 1 {
		t.Errorf("got %d observations with the trailing labels empty, want 1", got)
	}
}

// TestNewHistogram proves a nil registerer gives a nil Histogram that records
// nothing, that registering twice shares the first vector, and that a conflicting
// registration or too many labels is an error naming the metric.
func TestNewHistogram(t *testing.T) {
	h, err := NewHistogram(nil, prometheus.HistogramOpts{Name: "x_seconds", Help: "x"}, "a")
	if h != nil || err != nil {
		t.Fatalf("got %v, %v, want nil, nil", h, err)
	}
	h.Observe(trace.SpanContext{}, time.Second, "v") // no panic
	reg := prometheus.NewRegistry()
	a, b := testHistogram(t, reg), testHistogram(t, reg)
	a.Observe(trace.SpanContext{}, time.Millisecond, "GET", "/", "200")
	b.Observe(trace.SpanContext{}, time.Millisecond, "GET", "/", "200")
	if got := histCount(t, reg, "test_duration_seconds", map[string]string{"method": "GET", "path": "/", "status": "200"}); got != 2 {
		t.Errorf("got %d observations, want 2 in the shared series", got)
	}
	if _, err := NewHistogram(reg, prometheus.HistogramOpts{Name: "test_duration_seconds", Help: "x"}, "other"); err == nil || !strings.Contains(err.Error(), "test_duration_seconds") {
		t.Errorf("got %v, want an error naming test_duration_seconds", err)
	}
	if _, err := NewHistogram(reg, prometheus.HistogramOpts{Name: "many_seconds", Help: "x"}, "a", "b", "c", "d", "e", "f", "g"); err == nil || !strings.Contains(err.Error(), "many_seconds") {
		t.Errorf("got %v, want an error naming many_seconds", err)
	}
	mfs, _ := reg.Gather()
	if b := mfs[0].GetMetric()[0].GetHistogram().GetBucket(); len(b) != len(DurationBuckets()) {
		t.Errorf("got %d buckets, want the %d of DurationBuckets", len(b), len(DurationBuckets()))
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{
		"http.response.status_code": "http_response_status_code",
		"error.type":                "error_type",
		"k8s.pod-name":              "k8s_pod_name",
		"9lives":                    "key_9lives",
		"service_name":              "service_name",
	} {
		if got := LabelName(attribute.Key(in)); got != want {
			t.Errorf("LabelName(%q): got %q, want %q", in, got, want)
		}
	}
}

func testHistogram(t testing.TB, reg prometheus.Registerer) *Histogram {
	t.Helper()
	h, err := NewHistogram(reg, prometheus.HistogramOpts{Name: "test_duration_seconds", Help: "Test."}, "method", "path", "status")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// histCount returns the sample count of the histogram series name{labels} in g.
func histCount(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// BenchmarkHistogramObserve compares Observe (series cached by label values) with
// client_golang's WithLabelValues(...).Observe on every call.
func BenchmarkHistogramObserve(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		m := testHistogram(b, prometheus.NewRegistry())
		b.ReportAllocs()
		for b.Loop() {
			m.Observe(trace.SpanContext{}, time.Millisecond, "GET", "/items/{id}", "200")
		}
	})
	b.Run("WithLabelValues", func(b *testing.B) {
		m := testHistogram(b, prometheus.NewRegistry())
		b.ReportAllocs()
		for b.Loop() {
			m.series.vec.WithLabelValues("GET", "/items/{id}", "200").Observe(time.Millisecond.Seconds())
		}
	})
}
