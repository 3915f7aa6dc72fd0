package telemetry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/resource"
)

// Signals is the OpenTelemetry metrics and logs export a program links in for
// OTEL_METRICS_EXPORTER=otlp or console and OTEL_LOGS_EXPORTER=otlp or console:
// telemetry/otelexport's Signals(). The telemetry package does not build it itself, so
// that a service exporting metrics through /metrics only does not link the
// OpenTelemetry metrics and logs SDKs and their exporters; [CheckSignals] names the line
// to add when a setting needs it in a program that did not link it.
type Signals struct {
	// Start starts what cfg.Metrics and cfg.Logs ask for, for the service described by
	// res: the periodic push of the metrics of o.Gatherer (the same instruments
	// /metrics serves, with their exemplars) and the export of log records. With
	// nothing to push it returns an export that does nothing. Nothing global is set.
	Start func(ctx context.Context, cfg TracingConfig, res *resource.Resource, o SignalOptions) (SignalExport, error)
}

// SignalExport is a running metrics and logs export ([Signals.Start]).
type SignalExport interface {
	// LogHandler returns a handler that passes each record to next and to the logs
	// export; next itself when logs are not exported.
	LogHandler(next slog.Handler) slog.Handler
	// Exporters names what is pushed, for the compliance facts:
	// "metrics:otlp/grpc", "logs:console"...; empty when nothing is.
	Exporters() []string
	// ForceFlush pushes the metrics and exports the buffered log records now.
	ForceFlush(ctx context.Context) error
	// Shutdown pushes the metrics a last time, then flushes the log records (so the
	// records of the stop go too) and stops both, within ctx; exports in flight are
	// cancelled when ctx ends. Later calls return the first call's result.
	Shutdown(ctx context.Context) error
}

// SignalOptions are the parts of a [Signals.Start] that come from the program.
type SignalOptions struct {
	// Gatherer holds the metrics pushed: the registry /metrics serves.
	Gatherer prometheus.Gatherer
	// Console is where the console exporters write; nil means os.Stdout.
	Console io.Writer
	// Level is the lowest level of log records exported; nil means info.
	Level slog.Leveler
	// Logger reports failed exports; nil discards. It must not be a logger that feeds
	// the log export being started.
	Logger *slog.Logger
}

// ExportsSignals reports whether cfg pushes metrics (otlp or console in
// OTEL_METRICS_EXPORTER) or exports logs (OTEL_LOGS_EXPORTER), which needs [Signals].
func ExportsSignals(cfg TracingConfig) bool {
	return !cfg.Disabled && (len(PushedMetrics(cfg)) > 0 || len(cfg.Logs.Exporters) > 0)
}

// CheckSignals returns a *[ConfigError] for each of OTEL_METRICS_EXPORTER and
// OTEL_LOGS_EXPORTER that needs the OpenTelemetry metrics and logs export in a program
// that did not link it (linked false), naming the line to add; nil otherwise.
func CheckSignals(cfg TracingConfig, linked bool) error {
	if linked || !ExportsSignals(cfg) {
		return nil
	}
	const link = "this program does not link the OpenTelemetry metrics and logs export: add service.WithOTelExport(otelexport.Signals()) (package github.com/paved-road/paved/telemetry/otelexport) to its main, or "
	var errs []error
	if len(PushedMetrics(cfg)) > 0 {
		errs = append(errs, &ConfigError{Variable: "OTEL_METRICS_EXPORTER", Value: strings.Join(cfg.Metrics.Exporters, ","), Valid: link + "use prometheus"})
	}
	if len(cfg.Logs.Exporters) > 0 {
		errs = append(errs, &ConfigError{Variable: "OTEL_LOGS_EXPORTER", Value: strings.Join(cfg.Logs.Exporters, ","), Valid: link + "use none"})
	}
	return errors.Join(errs...)
}

// OTLPExporterSettings returns c with the OTLP defaults applied (the endpoint on
// localhost, DefaultOTLPTimeout, the protocol http/protobuf) and its TLS files loaded,
// for an exporter of the signal whose HTTP default URL is defaultHTTP (such as
// http://localhost:4318/v1/metrics); and the protocol.
func OTLPExporterSettings(c OTLPConfig, defaultHTTP string) (ExporterSettings, string, error) {
	proto := c.Protocol
	if proto == "" {
		proto = ProtocolHTTPProtobuf
	}
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = defaultHTTP
		if proto == ProtocolGRPC {
			endpoint = "http://localhost:4317"
		}
	}
	headers := c.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	tc := TracingConfig{Certificate: c.Certificate, ClientCertificate: c.ClientCertificate, ClientKey: c.ClientKey}
	tlsCfg, err := tc.tlsConfig()
	if err != nil {
		return ExporterSettings{}, "", err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultOTLPTimeout
	}
	return ExporterSettings{Endpoint: endpoint, Headers: headers, Timeout: timeout, Gzip: c.Compression == "gzip", TLS: tlsCfg}, proto, nil
}

// RedactSecrets returns err with any of the header values, and the endpoint's user
// information, that its message quotes replaced by REDACTED.
func RedactSecrets(err error, endpoint string, headers map[string]string) error {
	return redactSecrets(err, endpoint, headers)
}
