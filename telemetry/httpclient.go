package telemetry

import (
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// HTTPClientOptions configures [HTTPClientTransport]. The zero value injects the
// context's W3C trace context into outgoing requests and records nothing.
type HTTPClientOptions struct {
	// TracerProvider starts the client spans; nil means no spans.
	TracerProvider trace.TracerProvider
	// Propagator injects trace context; nil means W3C tracecontext and baggage.
	Propagator propagation.TextMapPropagator
	// Metrics records http_client_request_duration_seconds; nil means no metrics.
	Metrics *HTTPClientMetrics
}

// HTTPClientTransport wraps base (nil means http.DefaultTransport) so that every request
// gets a client span, a child of the span in the request's context, carries that span's
// trace context in its headers, and is recorded in opts.Metrics with the request URL's
// host as server_address. Spans come from the contrib otelhttp instrumentation; its own
// OpenTelemetry metrics are off (no global meter provider is touched).
func HTTPClientTransport(base http.RoundTripper, opts HTTPClientOptions) http.RoundTripper {
	tp := opts.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	prop := opts.Propagator
	if prop == nil {
		prop = newPropagator(nil)
	}
	var rt http.RoundTripper = otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(prop),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
	)
	if opts.Metrics != nil {
		rt = &clientMetrics{next: rt, metrics: opts.Metrics}
	}
	return rt
}

// clientMetrics records each round trip; it sits outside otelhttp so the measured time
// includes the instrumentation and the span is already ended, while the exemplar uses the
// caller's span (the request's context).
type clientMetrics struct {
	next    http.RoundTripper
	metrics *HTTPClientMetrics
}

func (c *clientMetrics) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := c.next.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	c.metrics.Observe(r.Context(), r.Method, r.URL.Host, status, time.Since(start))
	return resp, err
}
