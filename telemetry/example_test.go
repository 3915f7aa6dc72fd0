package telemetry_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/paved-road/paved/telemetry"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Read the tracing configuration from the standard variables; every bad variable is
// reported at once, and header values never appear in errors.
func ExampleTracingConfigFromEnv() {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     "0.1",
	}
	cfg, err := telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Println(cfg.Exporters, cfg.Endpoint, cfg.Sampler, cfg.SamplerArg, err)

	bad := map[string]string{
		"OTEL_TRACES_SAMPLER":        "sometimes",
		"OTEL_EXPORTER_OTLP_HEADERS": "Authorization Bearer s3cret",
	}
	_, err = telemetry.TracingConfigFromEnv(func(k string) (string, bool) { v, ok := bad[k]; return v, ok })
	fmt.Println(err)
	// Output:
	// [otlp] http://127.0.0.1:4318/v1/traces parentbased_traceidratio 0.1 <nil>
	// telemetry: OTEL_EXPORTER_OTLP_HEADERS is not valid: entry 1 is not key=value; use key1=value1,key2=value2 with percent-encoded values (value withheld: it may hold secrets)
	// telemetry: OTEL_TRACES_SAMPLER="sometimes" is not valid: use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio
}

// Build the tracer provider; with no exporter configured it is the no-op provider.
func ExampleNewTracing() {
	ctx := context.Background()
	cfg, _ := telemetry.TracingConfigFromEnv(func(string) (string, bool) { return "", false })
	tr, err := telemetry.NewTracing(ctx, cfg, telemetry.ResourceInfo{ServiceName: "orders", Version: "1.4.2"})
	if err != nil {
		panic(err)
	}
	defer tr.Shutdown(ctx)
	fields := tr.Propagator().Fields()
	slices.Sort(fields)
	fmt.Println(tr.Exporter(), tr.Recording(), fields)
	// Output:
	// none false [baggage traceparent tracestate]
}

// Carry trace context in a message's headers (NATS headers, or any
// map[string][]string), with no carrier of the transport's own.
func ExampleHeaderCarrier() {
	prop := telemetry.DefaultPropagator()
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("producer").Start(context.Background(), "send")
	defer span.End()

	headers := map[string][]string{} // a message's headers
	telemetry.Inject(ctx, prop, telemetry.HeaderCarrier(headers))
	fmt.Println(len(headers["traceparent"]))

	received := telemetry.ExtractHeaders(context.Background(), prop, headers)
	fmt.Println(trace.SpanContextFromContext(received).TraceID() == span.SpanContext().TraceID())
	// Output:
	// 1
	// true
}

// Build a provider of your own with the batch processor Paved's services use: ended spans
// reach the exporter in groups (or at ForceFlush and Shutdown), not one wakeup per span.
func ExampleNewBatchSpanProcessor() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(telemetry.NewBatchSpanProcessor(exp)))
	defer tp.Shutdown(context.Background())

	_, span := tp.Tracer("example").Start(context.Background(), "GET /items/{id}")
	span.End()
	_ = tp.ForceFlush(context.Background())
	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output: GET /items/{id}
}

// RedactURL hides the user information of a URL: what Paved shows of every setting.
func ExampleRedactURL() {
	fmt.Println(telemetry.RedactURL("https://paved:s3cret@catalog:8080/api"))
	fmt.Println(telemetry.RedactURL("https://ghp_token@git.example.com/org/repo"))
	fmt.Println(telemetry.RedactURL("http://catalog:8080"))
	// Output:
	// https://paved:xxxxx@catalog:8080/api
	// https://xxxxx@git.example.com/org/repo
	// http://catalog:8080
}
