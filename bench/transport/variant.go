package transportbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// Variants lists the variants [Handler] builds, the baseline first.
var Variants = []string{"bare", "paved", "paved-sampled", "sdk-floor-sampled", "gokit"}

// Route is the one route every variant serves; requests go to /items/42.
const Route = "GET /items/{id}"

type item struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Stock int    `json:"stock"`
}

// tinyJSON is the handler under test: a small JSON object built from the path.
func tinyJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(item{ID: r.PathValue("id"), Name: "widget", Stock: 7})
}

// Handler returns the variant's handler and a function that releases what it holds
// (the tracer provider's batch processor):
//
//   - bare: the handler on an http.ServeMux;
//   - paved: httptransport.Stack, every default on (recover, request id, tracing with
//     the sampler off (parentbased_always_off, declared with telemetry.DeclareRootNeverSampled) and a
//     batch processor, RED metrics on a fresh registry, access
//     log of errors to a JSON logger, body limit), around the same mux;
//   - paved-sampled: the same with every request sampled and exported through a batch
//     processor to a discarding exporter;
//   - sdk-floor-sampled: the mux behind [SDKFloor] with every request sampled and the
//     same batch processor: what any server tracing on the OpenTelemetry SDK costs at
//     least, with nothing else of the stack;
//   - gokit: a go-kit transport/http server for the same endpoint on the mux;
//   - recover, requestid, telemetry-off, accesslog, bodylimit, concurrency: one
//     middleware of the stack alone, to see what each costs.
func Handler(variant string) (http.Handler, func(), error) {
	mux := http.NewServeMux()
	nothing := func() {}
	if variant == "gokit" {
		e := endpoint.Endpoint(func(_ context.Context, req any) (any, error) {
			return item{ID: req.(string), Name: "widget", Stock: 7}, nil
		})
		dec := func(_ context.Context, r *http.Request) (any, error) { return r.PathValue("id"), nil }
		mux.Handle(Route, kithttp.NewServer(e, dec, kithttp.EncodeJSONResponse))
		return mux, nothing, nil
	}
	mux.HandleFunc(Route, tinyJSON)
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	switch variant {
	case "bare":
		return mux, nothing, nil
	case "paved", "paved-sampled":
		sampler := sdktrace.ParentBased(sdktrace.NeverSample())
		if variant == "paved-sampled" {
			sampler = sdktrace.AlwaysSample()
		}
		// The batch processor a service gets from telemetry.NewTracing.
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(telemetry.NewBatchSpanProcessor(tracetest.NewNoopExporter())))
		// What telemetry.NewTracing does for OTEL_TRACES_SAMPLER=parentbased_always_off.
		declared := trace.TracerProvider(tp)
		if variant == "paved" {
			declared = telemetry.DeclareRootNeverSampled(tp)
		}
		h, err := httptransport.Stack(mux, httptransport.StackOptions{
			Logger: logger, TracerProvider: declared, Registerer: prometheus.NewRegistry(),
		})
		if err != nil {
			return nil, nil, err
		}
		return h, func() { _ = tp.Shutdown(context.Background()) }, nil
	case "sdk-floor-sampled":
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		return SDKFloor(tp, mux), func() { _ = tp.Shutdown(context.Background()) }, nil
	case "recover":
		return httptransport.Recover(logger)(mux), nothing, nil
	case "requestid":
		return httptransport.RequestID()(mux), nothing, nil
	case "telemetry-off":
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())), sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		m, err := httptransport.NewServerMetrics(prometheus.NewRegistry())
		if err != nil {
			return nil, nil, err
		}
		return httptransport.ServerTelemetry(httptransport.ServerTelemetryOptions{TracerProvider: telemetry.DeclareRootNeverSampled(tp), Metrics: m})(mux),
			func() { _ = tp.Shutdown(context.Background()) }, nil
	case "accesslog":
		return httptransport.AccessLog(logger, httptransport.AccessLogOptions{})(mux), nothing, nil
	case "bodylimit":
		return httptransport.BodyLimit(httptransport.DefaultMaxBodyBytes)(mux), nothing, nil
	case "concurrency":
		return httptransport.ConcurrencyLimit(1024, 0, nil)(mux), nothing, nil
	}
	return nil, nil, fmt.Errorf("transportbench: unknown variant %q: want one of %s, or recover, requestid, telemetry-off, accesslog, bodylimit, concurrency",
		variant, strings.Join(Variants, ", "))
}

// SDKFloor wraps next in the least a server middleware on the OpenTelemetry SDK does per
// request: start a server span, hand next a request carrying it, set the attributes the
// semantic conventions require of a server span (method, status, path, scheme, route),
// end it. No propagation, metrics, request id or route naming: it is the floor under
// any tracing middleware on the SDK, against which Paved's own cost is measured.
func SDKFloor(tp trace.TracerProvider, next http.Handler) http.Handler {
	tracer := tp.Tracer("sdk-floor")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), Route, trace.WithSpanKind(trace.SpanKindServer))
		next.ServeHTTP(w, r.WithContext(ctx))
		if span.IsRecording() {
			span.SetAttributes(
				semconv.HTTPRequestMethodKey.String(r.Method),
				semconv.HTTPResponseStatusCode(http.StatusOK),
				semconv.URLPath(r.URL.Path),
				semconv.URLScheme("http"),
				semconv.HTTPRoute("/items/{id}"),
			)
		}
		span.End()
	})
}
