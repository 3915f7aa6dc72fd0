package httptransport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// TestStackRequestIDAndTrace proves that, through Stack over a real loopback server,
// the handler sees the request id that is echoed and logged, and the server span that
// is recorded under the mux's route pattern; with a provider declared never to sample a
// root, an unsampled request gets its id but starts no span, while a sampled caller
// still gets one.
func TestStackRequestIDAndTrace(t *testing.T) {
	const sampledParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name             string
		sampler          sdktrace.Sampler
		rootNeverSampled bool
		traceparent      string
		inID             string
		wantSpan         bool
	}{
		{"always sample, new id", sdktrace.AlwaysSample(), false, "", "", true},
		{"always sample, caller's id", sdktrace.AlwaysSample(), false, "", "caller-id-1", true},
		{"root never sampled", sdktrace.ParentBased(sdktrace.NeverSample()), true, "", "", false},
		{"root never sampled, sampled caller", sdktrace.ParentBased(sdktrace.NeverSample()), true, sampledParent, "caller-id-2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(tt.sampler), sdktrace.WithSpanProcessor(rec))
			defer func() { _ = sdk.Shutdown(context.Background()) }()
			tp := trace.TracerProvider(sdk)
			if tt.rootNeverSampled {
				tp = telemetry.DeclareRootNeverSampled(sdk)
			}
			var logs bytes.Buffer
			var seenID string
			var seenSpan trace.SpanContext
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				seenID, seenSpan = httptransport.RequestIDFrom(r.Context()), trace.SpanContextFromContext(r.Context())
				_, _ = io.WriteString(w, r.PathValue("id"))
			})
			h, err := httptransport.Stack(mux, httptransport.StackOptions{
				Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
				TracerProvider: tp,
				Registerer:     prometheus.NewRegistry(),
				AccessLog:      httptransport.AccessLogOptions{SampleRate: 1},
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequest("GET", srv.URL+"/items/9", nil)
			if tt.traceparent != "" {
				req.Header.Set("Traceparent", tt.traceparent)
			}
			if tt.inID != "" {
				req.Header.Set("X-Request-ID", tt.inID)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "9" {
				t.Fatalf("got %d %q, want 200 \"9\"", resp.StatusCode, body)
			}
			echoed := resp.Header.Get("X-Request-ID")
			if echoed == "" || echoed != seenID || (tt.inID != "" && echoed != tt.inID) {
				t.Errorf("got echoed id %q, handler's %q, want the same non-empty id (the caller's %q if sent)", echoed, seenID, tt.inID)
			}
			var entry struct {
				RequestID string `json:"request_id"`
				Route     string `json:"route"`
			}
			if err := json.Unmarshal(logs.Bytes(), &entry); err != nil || entry.RequestID != echoed || entry.Route != "GET /items/{id}" {
				t.Errorf("got access log %s (%v), want request_id %q and route GET /items/{id}", logs.String(), err, echoed)
			}
			spans := rec.Ended()
			if got := len(spans) == 1; got != tt.wantSpan {
				t.Fatalf("got %d spans, want span %v", len(spans), tt.wantSpan)
			}
			if tt.wantSpan {
				if spans[0].Name() != "GET /items/{id}" || spans[0].SpanContext().SpanID() != seenSpan.SpanID() {
					t.Errorf("got span %q %s, handler saw %s; want GET /items/{id} seen by the handler", spans[0].Name(), spans[0].SpanContext().SpanID(), seenSpan.SpanID())
				}
			} else if seenSpan.IsValid() {
				t.Errorf("got span context %v in the handler, want none (nothing sampled, no caller context)", seenSpan)
			}
		})
	}
}

// TestRequestIDContextDerived proves the request id context behaves as a context:
// values of the parent and of derived contexts are found, and cancelling the parent
// reaches contexts derived from it.
func TestRequestIDContextDerived(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "parent"))
	ctx := httptransport.WithRequestID(parent, "req-1")
	child, stop := context.WithCancel(ctx)
	defer stop()
	if got := httptransport.RequestIDFrom(child); got != "req-1" {
		t.Errorf("got id %q from a derived context, want req-1", got)
	}
	if got := child.Value(key{}); got != "parent" {
		t.Errorf("got parent value %v, want parent", got)
	}
	if got := httptransport.RequestIDFrom(context.Background()); got != "" {
		t.Errorf("got id %q from a bare context, want none", got)
	}
	cancel()
	<-child.Done()
	if err := child.Err(); err != context.Canceled {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
