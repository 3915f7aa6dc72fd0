package httptransport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/resilience"
)

// TestClientTelemetrySpan proves the client span is named by the method, is a client
// span, carries the semantic conventions' attributes with secrets redacted, ends only
// when the body is closed (or read to its end), and leaves the caller's request
// untouched.
func TestClientTelemetrySpan(t *testing.T) {
	tp, rec := newTP(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "payload")
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: ClientTelemetry(base, ClientTelemetryOptions{TracerProvider: tp})}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	req, _ := http.NewRequest("POST", srv.URL+"/items?q=go&api_key=s3cret", strings.NewReader("x"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Header) != 0 {
		t.Errorf("caller's request headers: got %v, want untouched", req.Header)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("got %d spans ended before the body was read, want 0", n)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "payload" {
		t.Errorf("got body %q, want payload", b)
	}
	resp.Body.Close()
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("got %d spans after the body was read and closed, want 1", len(spans))
	}
	s := spans[0]
	a := attrs(s)
	if s.Name() != "POST" || s.SpanKind() != trace.SpanKindClient || s.Status().Code == codes.Error {
		t.Errorf("got span %q kind %v status %v, want POST, client, not an error", s.Name(), s.SpanKind(), s.Status())
	}
	want := map[string]string{"http.request.method": "POST", "server.address": "127.0.0.1", "server.port": port,
		"http.response.status_code": "200", "url.full": srv.URL + "/items?q=go&api_key=REDACTED"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("attribute %s: got %q, want %q", k, a[k], v)
		}
	}
	if strings.Contains(a["url.full"], "s3cret") {
		t.Errorf("url.full %q shows the secret", a["url.full"])
	}

	// A 404 read to its end: the span ends at EOF, marked with error.type 404.
	resp, err = client.Get(srv.URL + "/missing")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if n := len(rec.Ended()); n != 2 {
		t.Errorf("got %d spans after EOF, want 2 (the body's EOF ends the span)", n)
	}
	resp.Body.Close()
	if s := rec.Ended()[1]; s.Status().Code != codes.Error || attrs(s)["error.type"] != "404" {
		t.Errorf("got status %v error.type %q, want Error and 404", s.Status(), attrs(s)["error.type"])
	}
}

// TestClientTelemetryErrors proves a request without a response ends its span at
// once with an Error status and a bounded error.type, and is recorded with it.
func TestClientTelemetryErrors(t *testing.T) {
	tp, rec := newTP(t)
	reg := prometheus.NewRegistry()
	m, _ := NewClientMetrics(reg)
	failing := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, resilience.ErrOpen })
	client := &http.Client{Transport: ClientTelemetry(failing, ClientTelemetryOptions{TracerProvider: tp, Metrics: m})}
	if _, err := client.Get("https://inventory/items"); !errors.Is(err, resilience.ErrOpen) {
		t.Fatalf("got %v, want the breaker's error", err)
	}
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].Status().Code != codes.Error || attrs(spans[0])["error.type"] != "breaker_open" {
		t.Fatalf("got spans %v, want one Error span with error.type breaker_open", spans)
	}
	if got := histCount(t, reg, MetricClientDuration, clientLabels("GET", "inventory", "443", "", "breaker_open")); got != 1 {
		t.Errorf("got %d observations, want 1 with error_type breaker_open and the https default port", got)
	}
	for err, want := range map[error]string{
		context.DeadlineExceeded:                     "timeout",
		context.Canceled:                             "canceled",
		resilience.ErrBudgetExhausted:                "retry_budget_exhausted",
		errors.New("odd"):                            "_OTHER",
		&net.OpError{Op: "dial", Err: typedErr("x")}: "custom",
	} {
		if got := ErrorType(err); got != want {
			t.Errorf("ErrorType(%v): got %q, want %q", err, got, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type typedErr string

func (e typedErr) Error() string     { return string(e) }
func (e typedErr) ErrorType() string { return "custom" }
