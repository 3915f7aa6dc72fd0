package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, LogOptions{}, slog.String("service", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("hello", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("got %q, want one JSON record at info: %v", buf.String(), err)
	}
	if rec["msg"] != "hello" || rec["service"] != "orders" || rec["trace_id"] != nil {
		t.Errorf("got %v, want msg hello, service orders and no trace_id", rec)
	}

	buf.Reset()
	l, _ = NewLogger(&buf, LogOptions{Format: "TEXT", Level: slog.LevelDebug})
	l.Debug("shown")
	if !strings.Contains(buf.String(), "msg=shown") {
		t.Errorf("got %q, want a text record at debug", buf.String())
	}
	if _, err := NewLogger(&buf, LogOptions{Format: "xml"}); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("got %v, want an error naming the format", err)
	}
	if _, err := ParseLevel("loud"); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Errorf("got %v, want an error naming the level", err)
	}
	if lv, err := ParseLevel("WARN+2"); err != nil || lv != slog.LevelWarn+2 {
		t.Errorf("got %v, %v, want WARN+2", lv, err)
	}
	OrDiscard(nil).Info("discarded") // must not panic
}

// TestLogsCarryTraceIDs proves a handler that logs with its request's context, in which
// a server span was started under the caller's extracted trace context, gets the
// span's trace_id and span_id on its record.
func TestLogsCarryTraceIDs(t *testing.T) {
	tp, rec := newTP(t)
	var buf bytes.Buffer
	logger, _ := NewLogger(&buf, LogOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "working")
	})
	h := spanHandler(tp, mux)
	req := httptest.NewRequest("GET", "/work", nil)
	req.Header.Set("Traceparent", remoteTraceparent)
	h.ServeHTTP(httptest.NewRecorder(), req)

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	span := rec.Ended()[0].SpanContext()
	if got["trace_id"] != span.TraceID().String() || got["span_id"] != span.SpanID().String() {
		t.Errorf("got trace_id %v span_id %v, want %s %s", got["trace_id"], got["span_id"], span.TraceID(), span.SpanID())
	}
}

// spanHandler is the least server instrumentation (the transports have the real one):
// it extracts the caller's trace context from the headers and runs h in a server span.
func spanHandler(tp trace.TracerProvider, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := ExtractHeaders(r.Context(), DefaultPropagator(), r.Header)
		ctx, span := tp.Tracer("test").Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

func newTP(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}
