package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/paved-road/paved/telemetry"
	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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

// Wrap the mux so every request gets a server span named by its route and a
// request-duration observation labelled by method, route and status code.
func ExampleHTTPServerMiddleware() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reg := prometheus.NewRegistry()
	metrics, _ := telemetry.NewHTTPServerMetrics(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PathValue("id")) })
	handler := telemetry.HTTPServerMiddleware(telemetry.HTTPServerOptions{TracerProvider: tp, Metrics: metrics})(mux)

	for _, path := range []string{"/items/1", "/items/2", "/no/such/page"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
	}
	mfs, _ := reg.Gather()
	for _, m := range mfs[0].GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		fmt.Println(strings.Join(labels, " "), m.GetHistogram().GetSampleCount())
	}
	// Output:
	// GET /items/{id}
	// GET /items/{id}
	// GET
	// method=GET route=/items/{id} status_code=200 2
	// method=GET route=unmatched status_code=404 1
}

// Trace every call of a go-kit endpoint and record its error.
func ExampleEndpointMiddleware() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ep := telemetry.EndpointMiddleware(tp, "inventory.reserve")(func(ctx context.Context, req any) (any, error) {
		return nil, errors.New("out of stock")
	})
	_, err := ep(context.Background(), nil)
	s := rec.Ended()[0]
	fmt.Println(s.Name(), s.Status().Code, s.Status().Description, err)
	// Output:
	// inventory.reserve Error out of stock out of stock
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
