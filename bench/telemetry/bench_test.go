package telemetrybench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	transportbench "github.com/paved-road/paved/bench/transport"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// discardWriter is a minimal ResponseWriter so the benchmark measures the middleware,
// not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	return mux
}

// provider returns a tracer provider with the given sampler and a batch span processor
// in front of the SDK's no-op exporter, as a service exporting over OTLP has (minus the
// network, which runs off the request path).
func provider(b *testing.B, s sdktrace.Sampler) trace.TracerProvider {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// pavedProvider is provider with the batch processor a service gets from
// telemetry.NewTracing (telemetry.NewBatchSpanProcessor).
func pavedProvider(b *testing.B, s sdktrace.Sampler) trace.TracerProvider {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(telemetry.NewBatchSpanProcessor(tracetest.NewNoopExporter())))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

func run(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/items/42", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
	// ns/op is wall-clock time, which on a shared machine counts the time the benchmark
	// waited for a CPU; the process's CPU time (the batch processor's goroutine and the
	// garbage collector included) does not.
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU returns the process's user and system CPU time in nanoseconds.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkHTTPServer compares, in one run, the per-request cost of a routed handler
// with no middleware, with httptransport.ServerTelemetry (tracing only, metrics only,
// both) and with otelhttp.NewHandler, at sampler off, 10 % and 100 %.
func BenchmarkHTTPServer(b *testing.B) {
	samplers := []struct {
		name string
		s    sdktrace.Sampler
	}{
		{"off", sdktrace.NeverSample()},
		{"10pct", sdktrace.TraceIDRatioBased(0.1)},
		{"100pct", sdktrace.AlwaysSample()},
	}
	b.Run("none", func(b *testing.B) { run(b, newMux()) })
	b.Run("paved/noexporter", func(b *testing.B) {
		run(b, httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: noop.NewTracerProvider()})(newMux()))
	})
	b.Run("paved/metrics-only", func(b *testing.B) {
		m, _ := httptransport.NewServerMetrics(prometheus.NewRegistry())
		run(b, httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{Metrics: m})(newMux()))
	})
	for _, s := range samplers {
		b.Run("paved/tracing/"+s.name, func(b *testing.B) {
			run(b, httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: pavedProvider(b, s.s)})(newMux()))
		})
		b.Run("paved/tracing+metrics/"+s.name, func(b *testing.B) {
			m, _ := httptransport.NewServerMetrics(prometheus.NewRegistry())
			run(b, httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: pavedProvider(b, s.s), Metrics: m})(newMux()))
		})
		if s.name == "off" {
			// What a service with OTEL_TRACES_SAMPLER=always_off or parentbased_always_off
			// configures (telemetry.NeverSamplesRoot): no span for unsampled requests.
			b.Run("paved/tracing+metrics/off-rootneversampled", func(b *testing.B) {
				m, _ := httptransport.NewServerMetrics(prometheus.NewRegistry())
				run(b, httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: telemetry.DeclareRootNeverSampled(pavedProvider(b, sdktrace.ParentBased(s.s))), Metrics: m})(newMux()))
			})
		}
		// The floor under any server tracing on the OpenTelemetry SDK: start a server
		// span, hand the handler a request with it, set the attributes the semantic
		// conventions require (method, status, path, scheme, route), end it. No
		// propagation, no metrics, no route naming: what is left of paved's cost above
		// this line is paved's own.
		b.Run("sdk-floor/"+s.name, func(b *testing.B) {
			run(b, transportbench.SDKFloor(provider(b, s.s), newMux()))
		})
		b.Run("otelhttp/"+s.name, func(b *testing.B) {
			run(b, otelhttp.NewHandler(newMux(), "server",
				otelhttp.WithTracerProvider(provider(b, s.s)),
				otelhttp.WithMeterProvider(metricnoop.NewMeterProvider())))
		})
	}
}
