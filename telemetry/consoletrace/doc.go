// Package consoletrace links the OpenTelemetry console (stdout) span exporter into a
// Paved service, for OTEL_TRACES_EXPORTER=console: one JSON document a span, written to
// standard output or to telemetry.WithConsoleWriter's writer. It is for development; the
// telemetry package does not build it itself, so that a service does not link it (the
// exporter pulls in the SDK's tracetest package) unless its main adds one line:
//
//	service.Main(info, setup, service.WithTraceExporter(consoletrace.Exporter()))
//
// It is safe for concurrent use.
package consoletrace
