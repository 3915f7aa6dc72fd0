// Package otelexport links the OpenTelemetry metrics and logs export into a Paved
// service, for OTEL_METRICS_EXPORTER=otlp or console and OTEL_LOGS_EXPORTER=otlp or
// console. The telemetry package does not build it itself, so that a service whose
// metrics are scraped from /metrics and whose logs are collected from its output does
// not link the OpenTelemetry metrics and logs SDKs and their exporters; a main that
// exports them adds one line:
//
//	service.Main(info, setup, service.WithOTelExport(otelexport.Signals()))
//
// Metrics: the same instruments feed /metrics and OTLP. The service's Prometheus
// registry is read by the OpenTelemetry Prometheus bridge
// (go.opentelemetry.io/contrib/bridges/prometheus) as the producer of a periodic
// reader, so there is no second set of instruments to keep in step, and the exemplars
// of counters and histograms (the trace and span ids of a sampled request) travel with
// the points. The request and messaging metrics Paved defines after the OpenTelemetry
// semantic conventions go out under the conventions' names, units and attribute keys
// (http.server.request.duration in s, with http.request.method, http.route...), so OTLP
// backends match them as they match the SDK's own, and a collector's Prometheus
// exporter turns them back into the names /metrics serves; every other metric keeps its
// Prometheus name. target_info is left out (it is the resource, which every export
// carries). The points are cumulative.
//
// Logs: records go to the OpenTelemetry logs SDK through the slog bridge
// (go.opentelemetry.io/contrib/bridges/otelslog), with the trace and span ids of the
// record's context and the service's resource, at the service's LOG_LEVEL and above,
// while the service's own log output keeps working (slog.NewMultiHandler).
//
// Every setting comes from Paved's validated configuration (endpoint, protocol,
// headers, timeout, compression, TLS, intervals, batch sizes, limits): the SDKs and
// exporters never read an OTEL_* variable themselves. Nothing is set globally. OTLP goes
// over HTTP (http/protobuf) or gRPC; the OpenTelemetry Go metrics and logs exporters
// have no http/json, which the configuration refuses for these signals.
package otelexport
