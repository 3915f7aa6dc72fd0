// Package telemetry gives a Paved service its logs, metrics and traces.
//
// Logs: [NewLogger] builds a log/slog logger (JSON by default, text on request) whose
// every record carries the service's identity, and [NewTraceHandler] adds the trace_id and
// span_id of the span in a record's context, so a log line leads to its trace.
//
// Metrics: [NewRegistry] returns a fresh Prometheus registry (never the global one) with
// the Go runtime, process and build_info collectors. Packages that define metrics take a
// prometheus.Registerer; a nil Registerer means no metrics. The request-duration
// histograms shared by transport and discovery are here: [HTTPServerMetrics]
// (http_server_request_duration_seconds), [HTTPClientMetrics] and [RPCServerMetrics], with
// bounded label values ([NormalizeMethod], [RouteFromPattern]) and trace-id exemplars
// when the request's span is sampled. [MetricsHandler] serves a registry in the text
// format or in OpenMetrics (with exemplars) when the scraper asks for it.
//
// Traces: [TracingConfigFromEnv] reads and validates the standard OTEL_* variables,
// reporting every bad one at once; [NewTracing] builds the tracer provider (OTLP over
// HTTP or gRPC, console, or none), the resource and the W3C propagators from it. With no
// exporter it is the no-op provider and costs next to nothing. The global provider is set
// only by [Tracing.SetGlobal]. [Tracing.Shutdown] flushes under its context's deadline
// and never waits longer, even for a collector that does not answer.
//
// Instrumentation: [HTTPServerMiddleware] is a lean server middleware (span and metrics
// by route pattern); [HTTPClientTransport] wraps an http.RoundTripper with the contrib
// otelhttp client instrumentation and client metrics. For go-kit, [EndpointMiddleware]
// traces endpoint calls and records their errors, [KitHTTPServerOptions] and
// [KitHTTPClientOptions] give go-kit HTTP servers and clients their spans and propagate
// context, [KitGRPCServerBefore] and [KitGRPCClientBefore] carry context in gRPC
// metadata, and [GRPCServerHandler] and [GRPCClientHandler] are the contrib otelgrpc
// stats handlers.
//
// Zero values: [LogOptions], [HTTPServerOptions], [HTTPClientOptions] and
// [TracingConfig] are usable as zero values (JSON at info; no spans or metrics but
// context propagation; no exporter). A nil *HTTPServerMetrics, *HTTPClientMetrics or
// *RPCServerMetrics records nothing.
//
// Everything in this package is safe for concurrent use once constructed. The package
// keeps no package-level state.
package telemetry
