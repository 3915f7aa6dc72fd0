package telemetry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// With a sampler that never samples a root, a provider declared so skips the span of
// requests that could not be sampled, while a caller's sampled trace still gets its
// server span. NewTracing declares its own provider when NeverSamplesRoot holds.
func ExampleNeverSamplesRoot() {
	cfg := telemetry.TracingConfig{Sampler: telemetry.SamplerParentBasedAlwaysOff}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())), sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("handler sees a trace:", trace.SpanContextFromContext(r.Context()).IsValid())
	})
	declared := trace.TracerProvider(tp)
	if telemetry.NeverSamplesRoot(cfg) {
		declared = telemetry.DeclareRootNeverSampled(tp)
	}
	h := httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: declared})(mux)

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	fmt.Println("spans:", len(rec.Ended()))

	req := httptest.NewRequest("GET", "/items/2", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	fmt.Println("spans:", len(rec.Ended()), rec.Ended()[0].Name())
	// Output:
	// handler sees a trace: false
	// spans: 0
	// handler sees a trace: true
	// spans: 1 GET /items/{id}
}
