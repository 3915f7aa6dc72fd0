// Package telemetry gives a Paved service its logs, metrics and traces.
//
// Logs: [NewLogger] builds a log/slog logger (JSON by default, text on request) whose
// every record carries the service's identity, and [NewTraceHandler] adds the trace_id and
// span_id of the span in a record's context, so a log line leads to its trace.
//
// Metrics: [NewRegistry] returns a fresh Prometheus registry (never the global one) with
// the Go runtime, process and build_info collectors. Packages that define metrics take a
// prometheus.Registerer; a nil Registerer means no metrics.
//
// Traces: the tracer provider is configured from the standard OTEL_* environment
// variables; the global provider is set only when the caller asks for it.
//
// Everything in this package is safe for concurrent use once constructed. The package
// keeps no package-level state.
package telemetry
