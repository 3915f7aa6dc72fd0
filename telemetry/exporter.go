package telemetry

import (
	"context"
	"crypto/tls"
	"io"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ExporterOTLPGRPC is the [Exporter] name of OTLP over gRPC, which
// OTEL_EXPORTER_OTLP_PROTOCOL=grpc selects.
const ExporterOTLPGRPC = ExporterOTLP + "/" + ProtocolGRPC

// Exporter is a span exporter a program links in for a setting this package does not
// build itself, so that a service links only the exporters it uses: OTLP over HTTP is
// built in; the console exporter (OTEL_TRACES_EXPORTER=console) is
// telemetry/consoletrace's, OTLP over gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc) is
// telemetry/otlpgrpc's. A setting that needs an exporter the program did not link is a
// [*ConfigError] from [NewTracing] naming the line to add.
type Exporter struct {
	// Name is what selects it: [ExporterConsole] or [ExporterOTLPGRPC].
	Name string
	// New builds the exporter from settings already validated and defaulted.
	New func(ctx context.Context, s ExporterSettings) (sdktrace.SpanExporter, error)
}

// ExporterSettings is what an [Exporter] is built from: a [TracingConfig]'s OTLP
// settings with their defaults applied, and the console writer.
type ExporterSettings struct {
	// Endpoint is the collector's URL (for gRPC, http://localhost:4317 by default).
	Endpoint string
	// Headers are sent with every export; their values may be secret.
	Headers map[string]string
	// Timeout bounds one export.
	Timeout time.Duration
	// Gzip compresses exports.
	Gzip bool
	// TLS holds the configured CA and client certificate; nil means the system's roots.
	TLS *tls.Config
	// Console is where a console exporter writes ([WithConsoleWriter]).
	Console io.Writer
}

// WithExporter links e into [NewTracing], for the setting that selects it by name.
func WithExporter(e Exporter) TracingOption {
	return func(o *tracingOptions) {
		if o.exporters == nil {
			o.exporters = map[string]Exporter{}
		}
		o.exporters[e.Name] = e
	}
}
