package httptransport

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// StackOptions configures [Stack]. The zero value recovers panics, assigns request ids,
// extracts trace context and limits bodies to 1 MiB; it records no metrics or spans and
// logs nothing but through a nil (discarding) logger.
type StackOptions struct {
	// Logger receives panics, 5xx causes and access logs; nil discards them.
	Logger *slog.Logger
	// TracerProvider starts server spans; nil means none.
	TracerProvider trace.TracerProvider
	// Propagator reads incoming trace context; nil means W3C tracecontext and baggage.
	Propagator propagation.TextMapPropagator
	// Registerer receives http_server_request_duration_seconds and
	// paved_http_server_shed_total; nil means no metrics.
	Registerer prometheus.Registerer
	// AccessLog chooses which requests are logged; the zero value logs only 5xx.
	AccessLog AccessLogOptions
	// MaxBodyBytes bounds request bodies; 0 means 1 MiB, negative means no limit.
	MaxBodyBytes int64
	// MaxConcurrent bounds requests served at once, shedding the rest with 503; 0 means
	// no limit.
	MaxConcurrent int
	// RetryAfter is the Retry-After of shed requests; 0 means 1s.
	RetryAfter time.Duration
}

// Stack wraps h (normally the service's *http.ServeMux) in Paved's standard server
// middleware, outermost first:
//
//  1. [Recover]: a panic becomes a 500 problem, logged with its stack;
//  2. [RequestID]: X-Request-ID accepted or generated, echoed, in the context;
//  3. [ServerTelemetry]: a server span named by route pattern, and
//     http_server_request_duration_seconds{http_request_method,http_route,
//     http_response_status_code,error_type,url_scheme}, with the route of the mux
//     (when h is a [Router]) also for the 413s and 503s answered before it and its 405s;
//  4. [AccessLog]: sampled, errors always, with the trace id;
//  5. [ConcurrencyLimit]: sheds with 503 and Retry-After;
//  6. [BodyLimit]: 413 past the limit, reading no more than it.
//
// Steps 2 and 3 share one context and one copy of the request: the telemetry
// middleware adds the request id as it hands the request on. Nothing between 3
// and the mux replaces the request, so the mux's route pattern reaches the span, the
// metrics and the log. Per-route timeouts go inside the mux
// ([Timeout]).
func Stack(h http.Handler, opts StackOptions) (http.Handler, error) {
	metrics, err := NewServerMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	router, _ := h.(Router) // the mux, asked for the route of requests answered before it
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxBodyBytes > 0 {
		h = BodyLimit(opts.MaxBodyBytes)(h)
	}
	if opts.MaxConcurrent > 0 {
		ra := opts.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		var onShed func(*http.Request)
		if opts.Registerer != nil {
			shed := prometheus.NewCounter(prometheus.CounterOpts{
				Name: "paved_http_server_shed_total",
				Help: "Requests answered 503 at once because the server was at its concurrency limit.",
			})
			if err := opts.Registerer.Register(shed); err != nil {
				return nil, err
			}
			onShed = func(*http.Request) { shed.Inc() }
		}
		h = ConcurrencyLimit(opts.MaxConcurrent, ra, onShed)(h)
	}
	h = AccessLog(opts.Logger, opts.AccessLog)(h)
	tel := newServerTelemetry(ServerTelemetryOptions{
		TracerProvider: opts.TracerProvider, Propagator: opts.Propagator, Metrics: metrics,
		Router: router,
	}, requestIDContext) // RequestID's work, without its request copy
	inner := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tel.serve(inner, w, r) })
	h = Recover(opts.Logger)(h)
	return h, nil
}
