package main

import (
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/telemetry/otelexport"
)

// main is all a Paved service's main holds: its identity (info.go) and its wiring
// (setup.go). service.Main loads the configuration, runs the service until SIGTERM, and
// exits 0, 1, or 2 for a configuration error. WithOTelExport links the OpenTelemetry
// metrics and logs export, so OTEL_METRICS_EXPORTER=otlp and OTEL_LOGS_EXPORTER=otlp
// work; a service that only serves /metrics and writes its log can leave it out.
func main() {
	service.Main(info, setup, service.WithOTelExport(otelexport.Signals()))
}
