// Package otlpgrpc links the OpenTelemetry OTLP/gRPC trace exporter into a Paved
// service, for OTEL_EXPORTER_OTLP_PROTOCOL=grpc. The telemetry package builds only
// OTLP over HTTP itself, so that a service that does not export over gRPC does not link
// the exporter (8 packages and genproto's errdetails); a main that does adds one line:
//
//	service.Main(info, setup, service.WithTraceExporter(otlpgrpc.Exporter()))
//
// The exporter gets every setting from Paved's validated configuration (endpoint,
// headers, timeout, compression, TLS) and never reads OTEL_* variables itself. It is safe
// for concurrent use.
package otlpgrpc
