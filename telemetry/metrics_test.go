package telemetry

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNormalizeMethod(t *testing.T) {
	for in, want := range map[string]string{
		"GET": "GET", "POST": "POST", "PATCH": "PATCH", "CONNECT": "CONNECT", "TRACE": "TRACE",
		"get": MethodOther, "PROPFIND": MethodOther, "": MethodOther, strings.Repeat("A", 1000): MethodOther,
	} {
		if got := NormalizeMethod(in); got != want {
			t.Errorf("NormalizeMethod(%.20q): got %q, want %q", in, got, want)
		}
	}
}

func TestRouteFromPattern(t *testing.T) {
	for in, want := range map[string]string{
		"":                     RouteUnmatched,
		"/items/{id}":          "/items/{id}",
		"GET /items/{id}":      "/items/{id}",
		"POST example.com/x/":  "example.com/x/",
		"GET /files/{path...}": "/files/{path...}",
	} {
		if got := RouteFromPattern(in); got != want {
			t.Errorf("RouteFromPattern(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestMetricsNilRegistererRecordsNothing(t *testing.T) {
	s, err := NewHTTPServerMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewHTTPClientMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRPCServerMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Neither these nor nil recorders panic.
	s.Observe(context.Background(), "GET", "/", 200, time.Millisecond)
	c.Observe(context.Background(), "GET", "h", 200, time.Millisecond)
	r.Observe(context.Background(), "grpc", "s", "m", "OK", time.Millisecond)
	(*HTTPServerMetrics)(nil).Observe(context.Background(), "GET", "/", 200, time.Millisecond)
}

func TestMetricsRegisterTwiceShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewHTTPServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewHTTPServerMetrics(reg)
	if err != nil {
		t.Fatalf("got %v, want the second registration to share the first", err)
	}
	a.Observe(context.Background(), "GET", "/a", 200, time.Millisecond)
	b.Observe(context.Background(), "GET", "/a", 200, time.Millisecond)
	if got := histCount(t, reg, MetricHTTPServerDuration, map[string]string{"method": "GET", "route": "/a", "status_code": "200"}); got != 2 {
		t.Errorf("got %d observations, want 2", got)
	}
	// A different metric under the same name is an error that names it.
	conflict := prometheus.NewRegistry()
	conflict.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: MetricRPCServerDuration, Help: "x"}))
	if _, err := NewRPCServerMetrics(conflict); err == nil || !strings.Contains(err.Error(), MetricRPCServerDuration) {
		t.Errorf("got %v, want an error naming %s", err, MetricRPCServerDuration)
	}
}

func TestMetricsBucketsAndLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, _ := NewHTTPServerMetrics(reg)
	c, _ := NewHTTPClientMetrics(reg)
	r, _ := NewRPCServerMetrics(reg)
	s.Observe(context.Background(), "GET", "/", 200, 30*time.Millisecond)
	c.Observe(context.Background(), "GET", "db:80", 0, time.Millisecond)
	r.Observe(context.Background(), "grpc", "pkg.Svc", "Get", "OK", time.Millisecond)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) != 0 {
		t.Errorf("got lint problems %v (error %v), want none", problems, err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		b := mf.GetMetric()[0].GetHistogram().GetBucket()
		if len(b) != len(DurationBuckets()) || b[0].GetUpperBound() != 0.005 || b[len(b)-1].GetUpperBound() != 10 {
			t.Errorf("%s: got %d buckets, want the 14 semantic-convention buckets from 5 ms to 10 s", mf.GetName(), len(b))
		}
	}
	if got := histCount(t, reg, MetricHTTPClientDuration, map[string]string{"method": "GET", "server_address": "db:80", "status_code": StatusError}); got != 1 {
		t.Errorf("got %d client observations with status %q, want 1", got, StatusError)
	}
}

// TestHTTPClientTransport proves the client transport propagates the caller's trace to
// a real server on loopback and records client metrics, with an exemplar, including
// requests that got no response.
func TestHTTPClientTransport(t *testing.T) {
	tp, rec := newTP(t)
	gotParent := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotParent <- r.Header.Get("Traceparent")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	m, err := NewHTTPClientMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: HTTPClientTransport(base, HTTPClientOptions{TracerProvider: tp, Metrics: m})}

	ctx, root := tp.Tracer("t").Start(context.Background(), "root")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	root.End()

	spans := rec.Ended()
	var clientSpanID string
	for _, s := range spans {
		if s.Parent().SpanID() == root.SpanContext().SpanID() {
			clientSpanID = s.SpanContext().SpanID().String()
		}
	}
	if p := <-gotParent; clientSpanID == "" || !strings.Contains(p, root.SpanContext().TraceID().String()+"-"+clientSpanID) {
		t.Errorf("got traceparent %q, want the client span %s of trace %s", p, clientSpanID, root.SpanContext().TraceID())
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if got := histCount(t, reg, MetricHTTPClientDuration, map[string]string{"method": "GET", "server_address": host, "status_code": "200"}); got != 1 {
		t.Errorf("got %d observations, want 1", got)
	}

	// A refused connection is recorded with status "error".
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	req, _ = http.NewRequest("GET", "http://"+dead+"/", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("got nil error from a closed port, want one")
	}
	if got := histCount(t, reg, MetricHTTPClientDuration, map[string]string{"method": "GET", "server_address": dead, "status_code": StatusError}); got != 1 {
		t.Errorf("got %d error observations, want 1", got)
	}
}

// TestExemplarInterval proves a bucket's exemplar is replaced at most once per
// ExemplarInterval, while other buckets and series get their first exemplar at once.
func TestExemplarInterval(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, _ := NewHTTPServerMetrics(reg)
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
					if lp.GetName() == "route" && lp.GetValue() == route {
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
	m.Observe(ctx1, "GET", "/a", 200, 3*time.Millisecond)
	ctx2, id2 := sampled()
	m.Observe(ctx2, "GET", "/a", 200, 4*time.Millisecond) // same bucket, too soon
	if got := exemplar("/a", 0.005); got != id1 {
		t.Errorf("got exemplar %s, want the first %s kept within the interval", got, id1)
	}
	m.Observe(ctx2, "GET", "/a", 200, 2*time.Second) // other bucket: first one goes in
	if got := exemplar("/a", 2.5); got != id2 {
		t.Errorf("got exemplar %s in the 2.5 s bucket, want %s", got, id2)
	}
	m.Observe(ctx2, "GET", "/b", 200, 3*time.Millisecond) // other series
	if got := exemplar("/b", 0.005); got != id2 {
		t.Errorf("got exemplar %s for /b, want %s", got, id2)
	}
	now = now.Add(ExemplarInterval)
	ctx3, id3 := sampled()
	m.Observe(ctx3, "GET", "/a", 200, 3*time.Millisecond)
	if got := exemplar("/a", 0.005); got != id3 {
		t.Errorf("got exemplar %s after the interval, want the newest %s", got, id3)
	}
}

// TestSeriesCacheManySeries proves that observations land in the right series past the
// lock-free cache's size, and from many goroutines at once.
func TestSeriesCacheManySeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewHTTPServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	const routes = maxFastSeries + 200
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range routes {
				m.Observe(context.Background(), "GET", fmt.Sprintf("/r%d", (i+g*300)%routes), 200, time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, i := range []int{0, maxFastSeries - 1, maxFastSeries, routes - 1} {
		labels := map[string]string{"method": "GET", "route": fmt.Sprintf("/r%d", i), "status_code": "200"}
		if got := histCount(t, reg, MetricHTTPServerDuration, labels); got != 4 {
			t.Errorf("got %d observations for %v, want 4", got, labels)
		}
	}
	if got := testutil.CollectAndCount(reg, MetricHTTPServerDuration); got != routes {
		t.Errorf("got %d series, want %d", got, routes)
	}
	if got := len(*m.series.fast.Load()); got != maxFastSeries {
		t.Errorf("got %d series in the lock-free map, want %d", got, maxFastSeries)
	}
}

// TestClientMetricsEmptyAddress proves an empty label value in the middle of the key
// is kept as a label, not taken for the end of the labels.
func TestClientMetricsEmptyAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewHTTPClientMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(context.Background(), "GET", "", 204, time.Millisecond)
	if got := histCount(t, reg, MetricHTTPClientDuration, map[string]string{"method": "GET", "server_address": "", "status_code": "204"}); got != 1 {
		t.Errorf("got %d observations, want 1", got)
	}
}

// BenchmarkHTTPServerMetricsObserve compares Observe (series cached by label values)
// with client_golang's WithLabelValues(...).Observe on every call, as Observe did before.
func BenchmarkHTTPServerMetricsObserve(b *testing.B) {
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		m, _ := NewHTTPServerMetrics(prometheus.NewRegistry())
		b.ReportAllocs()
		for b.Loop() {
			m.Observe(ctx, "GET", "/items/{id}", 200, time.Millisecond)
		}
	})
	b.Run("WithLabelValues", func(b *testing.B) {
		m, _ := NewHTTPServerMetrics(prometheus.NewRegistry())
		b.ReportAllocs()
		for b.Loop() {
			m.series.vec.WithLabelValues("GET", "/items/{id}", "200").Observe(time.Millisecond.Seconds())
		}
	})
}
