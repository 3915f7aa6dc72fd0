package httptransport

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/telemetry"
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
	s, err := NewServerMetrics(nil)
	if err != nil || s != nil {
		t.Fatalf("got %v, %v, want a nil recorder", s, err)
	}
	c, err := NewClientMetrics(nil)
	if err != nil || c != nil {
		t.Fatalf("got %v, %v, want a nil recorder", c, err)
	}
	// Nil recorders do not panic.
	s.Observe(context.Background(), "GET", "/", "http", 200, time.Millisecond)
	c.Observe(context.Background(), "GET", "h", "80", 200, "", time.Millisecond)
}

func TestMetricsRegisterTwiceShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewServerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewServerMetrics(reg)
	if err != nil {
		t.Fatalf("got %v, want the second registration to share the first", err)
	}
	a.Observe(context.Background(), "GET", "/a", "http", 200, time.Millisecond)
	b.Observe(context.Background(), "GET", "/a", "http", 200, time.Millisecond)
	if got := histCount(t, reg, MetricServerDuration, serverLabels("GET", "/a", 200)); got != 2 {
		t.Errorf("got %d observations, want 2", got)
	}
	// A different metric under the same name is an error that names it.
	conflict := prometheus.NewRegistry()
	conflict.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: MetricClientDuration, Help: "x"}))
	if _, err := NewClientMetrics(conflict); err == nil || !strings.Contains(err.Error(), MetricClientDuration) {
		t.Errorf("got %v, want an error naming %s", err, MetricClientDuration)
	}
}

func TestMetricsBucketsAndLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, _ := NewServerMetrics(reg)
	c, _ := NewClientMetrics(reg)
	s.Observe(context.Background(), "GET", "/", "http", 200, 30*time.Millisecond)
	c.Observe(context.Background(), "GET", "db", "80", 0, "timeout", time.Millisecond)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) != 0 {
		t.Errorf("got lint problems %v (error %v), want none", problems, err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		b := mf.GetMetric()[0].GetHistogram().GetBucket()
		if len(b) != len(telemetry.DurationBuckets()) || b[0].GetUpperBound() != 0.005 || b[len(b)-1].GetUpperBound() != 10 {
			t.Errorf("%s: got %d buckets, want the 14 semantic-convention buckets from 5 ms to 10 s", mf.GetName(), len(b))
		}
	}
	if got := histCount(t, reg, MetricClientDuration, clientLabels("GET", "db", "80", "", "timeout")); got != 1 {
		t.Errorf("got %d client observations without status and with error_type timeout, want 1", got)
	}
}

// TestClientTelemetry proves the client transport propagates the caller's trace to
// a real server on loopback and records client metrics, with an exemplar, including
// requests that got no response.
func TestClientTelemetry(t *testing.T) {
	tp, rec := newTP(t)
	gotParent := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotParent <- r.Header.Get("Traceparent")
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	m, err := NewClientMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: ClientTelemetry(base, ClientTelemetryOptions{TracerProvider: tp, Metrics: m})}

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
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if got := histCount(t, reg, MetricClientDuration, clientLabels("GET", host, port, "200", "")); got != 1 {
		t.Errorf("got %d observations, want 1", got)
	}

	// A refused connection is recorded without a status, with error_type
	// connection_refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	req, _ = http.NewRequest("GET", "http://"+dead+"/", nil)
	if _, err := client.Do(req); err == nil {
		t.Fatal("got nil error from a closed port, want one")
	}
	deadHost, deadPort, _ := net.SplitHostPort(dead)
	if got := histCount(t, reg, MetricClientDuration, clientLabels("GET", deadHost, deadPort, "", "connection_refused")); got != 1 {
		t.Errorf("got %d error observations, want 1", got)
	}
}

// clientLabels are the labels of a client observation.
func clientLabels(method, address, port, status, errorType string) map[string]string {
	return map[string]string{"http_request_method": method, "server_address": address, "server_port": port,
		"http_response_status_code": status, "error_type": errorType}
}
