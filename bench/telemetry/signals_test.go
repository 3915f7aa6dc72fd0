package telemetrybench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/telemetry/otelexport"
	"github.com/paved-road/paved/transport/httptransport"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkSignalExport measures, in one run, the full server stack
// (httptransport.Stack, every default on, the sampler off as a service with
// parentbased_always_off has it) on a service's registry (telemetry.NewRegistry:
// runtime, process, build_info) with the metrics served for Prometheus only, and the
// same with OTEL_METRICS_EXPORTER=prometheus,otlp: the registry also pushed over
// OTLP/HTTP by telemetry/otelexport to a local receiver that reads and discards, every
// second (60 times as often as the default interval, so the push's cost shows). The
// instruments are the same; what the push adds per request is the background gather,
// conversion and export, which cpu-ns/op (the process's CPU time per request) counts.
func BenchmarkSignalExport(b *testing.B) {
	var pushes atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		pushes.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(receiver.Close)

	stack := func(b *testing.B, otlp bool) http.Handler {
		reg := telemetry.NewRegistry(telemetry.BuildInfo{Service: "bench", Version: "1.0.0"})
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
			sdktrace.WithSpanProcessor(telemetry.NewBatchSpanProcessor(tracetest.NewNoopExporter())))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		h, err := httptransport.Stack(newMux(), httptransport.StackOptions{
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), TracerProvider: telemetry.DeclareRootNeverSampled(tp), Registerer: reg,
		})
		if err != nil {
			b.Fatal(err)
		}
		if !otlp {
			return h
		}
		env := map[string]string{
			"OTEL_METRICS_EXPORTER": "prometheus,otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.URL,
			"OTEL_METRIC_EXPORT_INTERVAL": "1000",
		}
		cfg, err := telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			b.Fatal(err)
		}
		exp, err := otelexport.Start(context.Background(), cfg, nil, telemetry.SignalOptions{Gatherer: reg})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := exp.Shutdown(ctx); err != nil {
				b.Error(err)
			}
		})
		return h
	}
	b.Run("prometheus", func(b *testing.B) { run(b, stack(b, false)) })
	b.Run("prometheus+otlp", func(b *testing.B) {
		before := pushes.Load()
		run(b, stack(b, true))
		b.ReportMetric(float64(pushes.Load()-before), "pushes")
	})
}
