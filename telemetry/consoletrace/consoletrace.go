package consoletrace

import (
	"context"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/paved-road/paved/telemetry"
)

// Exporter returns the console span exporter, for service.WithTraceExporter or
// telemetry.WithExporter.
func Exporter() telemetry.Exporter {
	return telemetry.Exporter{Name: telemetry.ExporterConsole, New: func(_ context.Context, s telemetry.ExporterSettings) (sdktrace.SpanExporter, error) {
		return stdouttrace.New(stdouttrace.WithWriter(s.Console))
	}}
}
