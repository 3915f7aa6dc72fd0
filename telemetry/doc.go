// Package telemetry gives a Paved service its logs, metrics and traces.
//
// Logs: [NewLogger] builds a log/slog logger (JSON by default, text on request) whose
// every record carries the service's identity, and [NewTraceHandler] adds the trace_id and
// span_id of the span in a record's context, so a log line leads to its trace.
//
// Metrics: [NewRegistry] returns a fresh Prometheus registry (never the global one) with
// the Go runtime, process and build_info collectors; [NewTargetInfoCollector] adds
// target_info, the service's OpenTelemetry resource ([NewResource]). Packages that
// define metrics take a prometheus.Registerer; a nil Registerer means no metrics.
// [Histogram] is the duration histogram the transports' request metrics are built on:
// no allocation once a series exists, and trace-id exemplars when the request's span is
// sampled. [LabelName] turns a semantic-convention attribute key into its Prometheus
// label name. [MetricsHandler] serves a registry in the text format or in OpenMetrics
// (with exemplars) when the scraper asks for it.
//
// Traces: [TracingConfigFromEnv] reads and validates the standard OTEL_* variables,
// reporting every bad one at once; [NewTracing] builds the tracer provider (OTLP over
// HTTP or gRPC, console, or none), the resource and the W3C propagators from it. With no
// exporter it is the no-op provider and costs next to nothing. The global provider is set
// only by [Tracing.SetGlobal]. [Tracing.Shutdown] flushes under its context's deadline
// and never waits longer, even for a collector that does not answer.
//
// Metrics and logs over OpenTelemetry: [TracingConfigFromEnv] also reads
// OTEL_METRICS_EXPORTER, OTEL_LOGS_EXPORTER and their OTLP, interval, batch and limit
// variables ([MetricsConfig], [LogsConfig]); [ServesMetrics] says whether /metrics is
// served. Pushing metrics and exporting logs is telemetry/otelexport's, which a program
// links in ([Signals]); [CheckSignals] names the line to add when a setting needs it and
// it is missing.
//
// Propagation: [HeaderCarrier] carries trace context in any map[string][]string
// header map (NATS message headers, gRPC metadata, http.Header) and [ExtractHeaders]
// reads it, skipping the work when no W3C header came; [DefaultPropagator] is W3C
// tracecontext and baggage. The instrumentation itself lives next to each transport:
// transport/httptransport (server middleware, client round-tripper, go-kit options
// and endpoint tracing), transport/grpctransport (interceptors, stats handlers) and the
// messaging modules.
//
// Redaction: [RedactURL] and [RedactQuery] hide passwords and secret-looking query
// values wherever a URL is shown (settings, logs, span attributes).
//
// Zero values: [LogOptions] and [TracingConfig] are usable as zero values (JSON at
// info; no exporter). A nil *Histogram records nothing.
//
// Everything in this package is safe for concurrent use once constructed. The package
// keeps no package-level state.
package telemetry
