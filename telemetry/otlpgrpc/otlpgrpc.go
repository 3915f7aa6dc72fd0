package otlpgrpc

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc/credentials"

	"github.com/paved-road/paved/telemetry"
)

// Exporter returns the OTLP/gRPC trace exporter, for service.WithTraceExporter or
// telemetry.WithExporter.
func Exporter() telemetry.Exporter {
	return telemetry.Exporter{Name: telemetry.ExporterOTLPGRPC, New: newExporter}
}

func newExporter(ctx context.Context, s telemetry.ExporterSettings) (sdktrace.SpanExporter, error) {
	opts := []otlptracegrpc.Option{
		otlptracegrpc.WithEndpointURL(s.Endpoint),
		otlptracegrpc.WithHeaders(s.Headers),
		otlptracegrpc.WithTimeout(s.Timeout),
	}
	if s.TLS != nil && strings.HasPrefix(s.Endpoint, "https:") {
		opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(s.TLS)))
	}
	if s.Gzip {
		opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
	}
	return otlptracegrpc.New(ctx, opts...)
}
