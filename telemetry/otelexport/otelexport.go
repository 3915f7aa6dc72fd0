package otelexport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/resource"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	promBridge "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/credentials"

	"github.com/paved-road/paved/telemetry"
)

// ScopeName is the instrumentation scope of the log records Paved's services export.
const ScopeName = "github.com/paved-road/paved"

// Signals returns the OpenTelemetry metrics and logs export, for
// service.WithOTelExport.
func Signals() telemetry.Signals {
	return telemetry.Signals{Start: Start}
}

// Start starts the metrics and logs export that cfg asks for (see
// [telemetry.Signals]): a meter provider whose periodic readers, one per exporter,
// push the metrics of o.Gatherer through the Prometheus bridge, and a logger provider
// with one batch processor per exporter behind an slog handler. It returns a
// *telemetry.ConfigError when cfg is not valid for it.
func Start(ctx context.Context, cfg telemetry.TracingConfig, res *resource.Resource, o telemetry.SignalOptions) (telemetry.SignalExport, error) {
	e := &export{}
	if !telemetry.ExportsSignals(cfg) {
		return e, nil
	}
	console := o.Console
	if console == nil {
		console = os.Stdout
	}
	logger := telemetry.OrDiscard(o.Logger)
	if pushed := telemetry.PushedMetrics(cfg); len(pushed) > 0 {
		otlp, proto, err := telemetry.OTLPExporterSettings(cfg.Metrics.OTLP, "http://localhost:4318/v1/metrics")
		if err != nil {
			return nil, err
		}
		otlp.Console = console
		s := metricsSettings{
			exporters: pushed, protocol: proto, otlp: otlp,
			interval: durationOr(cfg.Metrics.Interval, telemetry.DefaultMetricExportInterval),
			timeout:  durationOr(cfg.Metrics.Timeout, telemetry.DefaultMetricExportTimeout),
			resource: res, gatherer: o.Gatherer, logger: logger,
		}
		if s.gatherer == nil {
			s.gatherer = prometheus.NewRegistry() // never the global one
		}
		p, err := startMetrics(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("telemetry: metrics export (%s): %w", strings.Join(pushed, ","), telemetry.RedactSecrets(err, cfg.Metrics.OTLP.Endpoint, cfg.Metrics.OTLP.Headers))
		}
		e.metrics = p
		for _, n := range pushed {
			e.names = append(e.names, "metrics:"+exportName(n, proto))
		}
	}
	if logs := cfg.Logs.Exporters; len(logs) > 0 && !cfg.Disabled {
		otlp, proto, err := telemetry.OTLPExporterSettings(cfg.Logs.OTLP, "http://localhost:4318/v1/logs")
		if err != nil {
			_ = e.Shutdown(ctx)
			return nil, err
		}
		otlp.Console = console
		b := cfg.Logs.Batch
		b.ScheduleDelay = durationOr(b.ScheduleDelay, time.Second)
		b.ExportTimeout = durationOr(b.ExportTimeout, 30*time.Second)
		if b.MaxQueueSize <= 0 {
			b.MaxQueueSize = 2048
		}
		if b.MaxExportBatchSize <= 0 {
			b.MaxExportBatchSize = 512
		}
		b.MaxExportBatchSize = min(b.MaxExportBatchSize, b.MaxQueueSize)
		s := logsSettings{
			exporters: logs, protocol: proto, otlp: otlp, batch: b,
			valueLength: -1, count: 128,
			resource: res, level: o.Level, logger: logger,
		}
		if p := cfg.Logs.AttributeValueLength; p != nil {
			s.valueLength = *p
		}
		if p := cfg.Logs.AttributeCount; p != nil {
			s.count = *p
		}
		if s.level == nil {
			s.level = slog.LevelInfo
		}
		h, p, err := startLogs(ctx, s)
		if err != nil {
			_ = e.Shutdown(ctx)
			return nil, fmt.Errorf("telemetry: logs export (%s): %w", strings.Join(logs, ","), telemetry.RedactSecrets(err, cfg.Logs.OTLP.Endpoint, cfg.Logs.OTLP.Headers))
		}
		e.handler, e.logs = h, p
		for _, n := range logs {
			e.names = append(e.names, "logs:"+exportName(n, proto))
		}
	}
	return e, nil
}

// metricsSettings is a MetricsConfig validated and defaulted.
type metricsSettings struct {
	exporters         []string
	protocol          string
	otlp              telemetry.ExporterSettings
	interval, timeout time.Duration
	resource          *resource.Resource
	gatherer          prometheus.Gatherer
	logger            *slog.Logger
}

// logsSettings is a LogsConfig validated and defaulted.
type logsSettings struct {
	exporters          []string
	protocol           string
	otlp               telemetry.ExporterSettings
	batch              telemetry.BatchConfig
	valueLength, count int
	resource           *resource.Resource
	level              slog.Leveler
	logger             *slog.Logger
}

func exportName(exporter, proto string) string {
	if exporter == telemetry.ExporterOTLP {
		return "otlp/" + proto
	}
	return exporter
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// export is a running metrics and logs export.
type export struct {
	metrics, logs *pipeline
	handler       slog.Handler
	names         []string
	closeOnce     sync.Once
	closeErr      error
}

func (e *export) LogHandler(next slog.Handler) slog.Handler {
	if e.handler == nil {
		return next
	}
	return slog.NewMultiHandler(next, e.handler)
}

func (e *export) Exporters() []string { return e.names }

func (e *export) ForceFlush(ctx context.Context) error {
	var errs []error
	for _, p := range []*pipeline{e.metrics, e.logs} {
		if p != nil {
			errs = append(errs, p.ForceFlush(ctx))
		}
	}
	return errors.Join(errs...)
}

func (e *export) Shutdown(ctx context.Context) error {
	e.closeOnce.Do(func() {
		var errs []error
		if e.metrics != nil {
			// The last push gets half of the time left at most, so that the log
			// records of the stop get the rest.
			mctx := ctx
			if d, ok := ctx.Deadline(); ok && e.logs != nil {
				var cancel context.CancelFunc
				mctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(d)/2))
				defer cancel()
			}
			if err := e.metrics.Shutdown(mctx); err != nil {
				errs = append(errs, fmt.Errorf("telemetry: stopping the metrics export: %w", err))
			}
		}
		if e.logs != nil {
			if err := e.logs.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("telemetry: stopping the logs export: %w", err))
			}
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

func grpcTLS(s telemetry.ExporterSettings) credentials.TransportCredentials {
	if s.TLS != nil && strings.HasPrefix(s.Endpoint, "https:") {
		return credentials.NewTLS(s.TLS)
	}
	return nil
}

// startMetrics builds a meter provider whose only readers are periodic readers, one
// per exporter, each producing the registry's metrics through the Prometheus bridge.
func startMetrics(ctx context.Context, s metricsSettings) (*pipeline, error) {
	p := newPipeline()
	opts := []sdkmetric.Option{sdkmetric.WithResource(s.resource)}
	for _, name := range s.exporters {
		exp, closeIdle, err := newMetricExporter(ctx, name, s)
		if err != nil {
			p.closeAll()
			return nil, err
		}
		p.closers = append(p.closers, closeIdle)
		label := name
		if name == telemetry.ExporterOTLP {
			label += "/" + s.protocol
		}
		reader := sdkmetric.NewPeriodicReader(&loggedMetricExporter{Exporter: exp, name: label, logger: s.logger, p: p},
			sdkmetric.WithInterval(s.interval),
			sdkmetric.WithTimeout(s.timeout),
			sdkmetric.WithProducer(newBridgeFixes(promBridge.NewMetricProducer(promBridge.WithGatherer(s.gatherer)))),
		)
		opts = append(opts, sdkmetric.WithReader(reader))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	p.flush, p.shutdown = mp.ForceFlush, mp.Shutdown
	return p, nil
}

func newMetricExporter(ctx context.Context, name string, s metricsSettings) (sdkmetric.Exporter, func(), error) {
	// Explicit selectors, so that the exporters never read the temporality and
	// aggregation variables themselves.
	temporality, aggregation := sdkmetric.DefaultTemporalitySelector, sdkmetric.DefaultAggregationSelector
	if name == telemetry.ExporterConsole {
		exp, err := stdoutmetric.New(stdoutmetric.WithWriter(s.otlp.Console),
			stdoutmetric.WithTemporalitySelector(temporality), stdoutmetric.WithAggregationSelector(aggregation))
		return exp, func() {}, err
	}
	o := s.otlp
	if s.protocol == telemetry.ProtocolGRPC {
		opts := []otlpmetricgrpc.Option{
			otlpmetricgrpc.WithEndpointURL(o.Endpoint),
			otlpmetricgrpc.WithHeaders(o.Headers),
			otlpmetricgrpc.WithTimeout(o.Timeout),
			otlpmetricgrpc.WithTemporalitySelector(temporality),
			otlpmetricgrpc.WithAggregationSelector(aggregation),
		}
		if c := grpcTLS(o); c != nil {
			opts = append(opts, otlpmetricgrpc.WithTLSCredentials(c))
		}
		if o.Gzip {
			opts = append(opts, otlpmetricgrpc.WithCompressor("gzip"))
		}
		exp, err := otlpmetricgrpc.New(ctx, opts...)
		return exp, func() {}, err
	}
	client, closeIdle := telemetry.ExporterHTTPClient(o.TLS, o.Timeout)
	compression := otlpmetrichttp.NoCompression
	if o.Gzip {
		compression = otlpmetrichttp.GzipCompression
	}
	opts := []otlpmetrichttp.Option{
		otlpmetrichttp.WithEndpointURL(o.Endpoint),
		otlpmetrichttp.WithHeaders(o.Headers),
		otlpmetrichttp.WithHTTPClient(client),
		otlpmetrichttp.WithTimeout(o.Timeout),
		otlpmetrichttp.WithCompression(compression),
		otlpmetrichttp.WithTemporalitySelector(temporality),
		otlpmetrichttp.WithAggregationSelector(aggregation),
	}
	if o.TLS != nil {
		opts = append(opts, otlpmetrichttp.WithTLSClientConfig(o.TLS))
	}
	exp, err := otlpmetrichttp.New(ctx, opts...)
	return exp, closeIdle, err
}

// loggedMetricExporter logs failed pushes on the service's logger (the SDK would
// report them to OpenTelemetry's global error handler only).
type loggedMetricExporter struct {
	sdkmetric.Exporter
	name   string
	logger *slog.Logger
	p      *pipeline
}

func (e *loggedMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	ctx, done := e.p.bounded(ctx)
	defer done()
	err := e.Exporter.Export(ctx, rm)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "telemetry: metrics export failed",
			slog.String("exporter", e.name), slog.Any("error", err))
	}
	return err
}

// startLogs builds a logger provider with one batch processor per exporter and the
// slog handler over it.
func startLogs(ctx context.Context, s logsSettings) (slog.Handler, *pipeline, error) {
	p := newPipeline()
	opts := []sdklog.LoggerProviderOption{
		sdklog.WithResource(s.resource),
		// Explicit, so that the SDK never reads OTEL_LOGRECORD_* itself.
		sdklog.WithAttributeCountLimit(s.count),
		sdklog.WithAttributeValueLengthLimit(s.valueLength),
	}
	for _, name := range s.exporters {
		exp, closeIdle, err := newLogExporter(ctx, name, s)
		if err != nil {
			p.closeAll()
			return nil, nil, err
		}
		p.closers = append(p.closers, closeIdle)
		label := name
		if name == telemetry.ExporterOTLP {
			label += "/" + s.protocol
		}
		opts = append(opts, sdklog.WithProcessor(sdklog.NewBatchProcessor(&loggedLogExporter{Exporter: exp, name: label, logger: s.logger, p: p},
			sdklog.WithExportInterval(s.batch.ScheduleDelay),
			sdklog.WithExportTimeout(s.batch.ExportTimeout),
			sdklog.WithMaxQueueSize(s.batch.MaxQueueSize),
			sdklog.WithExportMaxBatchSize(s.batch.MaxExportBatchSize),
		)))
	}
	lp := sdklog.NewLoggerProvider(opts...)
	p.flush, p.shutdown = lp.ForceFlush, lp.Shutdown
	h := &levelHandler{level: s.level, next: otelslog.NewHandler(ScopeName, otelslog.WithLoggerProvider(lp))}
	return h, p, nil
}

func newLogExporter(ctx context.Context, name string, s logsSettings) (sdklog.Exporter, func(), error) {
	if name == telemetry.ExporterConsole {
		exp, err := stdoutlog.New(stdoutlog.WithWriter(s.otlp.Console))
		return exp, func() {}, err
	}
	o := s.otlp
	if s.protocol == telemetry.ProtocolGRPC {
		opts := []otlploggrpc.Option{
			otlploggrpc.WithEndpointURL(o.Endpoint),
			otlploggrpc.WithHeaders(o.Headers),
			otlploggrpc.WithTimeout(o.Timeout),
		}
		if c := grpcTLS(o); c != nil {
			opts = append(opts, otlploggrpc.WithTLSCredentials(c))
		}
		if o.Gzip {
			opts = append(opts, otlploggrpc.WithCompressor("gzip"))
		}
		exp, err := otlploggrpc.New(ctx, opts...)
		return exp, func() {}, err
	}
	client, closeIdle := telemetry.ExporterHTTPClient(o.TLS, o.Timeout)
	compression := otlploghttp.NoCompression
	if o.Gzip {
		compression = otlploghttp.GzipCompression
	}
	opts := []otlploghttp.Option{
		otlploghttp.WithEndpointURL(o.Endpoint),
		otlploghttp.WithHeaders(o.Headers),
		otlploghttp.WithHTTPClient(client),
		otlploghttp.WithTimeout(o.Timeout),
		otlploghttp.WithCompression(compression),
	}
	if o.TLS != nil {
		opts = append(opts, otlploghttp.WithTLSClientConfig(o.TLS))
	}
	exp, err := otlploghttp.New(ctx, opts...)
	return exp, closeIdle, err
}

// loggedLogExporter logs failed exports on the service's logger, which never feeds
// this export (no loop).
type loggedLogExporter struct {
	sdklog.Exporter
	name   string
	logger *slog.Logger
	p      *pipeline
}

func (e *loggedLogExporter) Export(ctx context.Context, records []sdklog.Record) error {
	ctx, done := e.p.bounded(ctx)
	defer done()
	err := e.Exporter.Export(ctx, records)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "telemetry: logs export failed",
			slog.String("exporter", e.name), slog.Int("records", len(records)), slog.Any("error", err))
	}
	return err
}

// levelHandler passes on the records at level and above: the logs SDK would take
// every level.
type levelHandler struct {
	level slog.Leveler
	next  slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level.Level() && h.next.Enabled(ctx, l)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{level: h.level, next: h.next.WithAttrs(attrs)}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{level: h.level, next: h.next.WithGroup(name)}
}

// pipeline is a running meter or logger provider and the HTTP transports it owns.
// Its exports run under aborted, which ends when a shutdown runs out of time, so that
// an unreachable collector holds no export (and no goroutine) beyond it.
type pipeline struct {
	flush, shutdown func(context.Context) error
	closers         []func()
	aborted         context.Context
	abort           context.CancelFunc
}

func newPipeline() *pipeline {
	p := &pipeline{}
	p.aborted, p.abort = context.WithCancel(context.Background())
	return p
}

func (p *pipeline) ForceFlush(ctx context.Context) error { return p.flush(ctx) }

func (p *pipeline) Shutdown(ctx context.Context) error {
	if ctx.Err() != nil {
		// The providers return at once on an ended context and leave their
		// workers running: give them a moment, with every export aborted.
		p.abort()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 100*time.Millisecond)
		defer cancel()
	}
	stop := context.AfterFunc(ctx, p.abort)
	defer stop()
	err := p.shutdown(ctx)
	p.abort()
	p.closeAll()
	return err
}

// bounded returns ctx, also cancelled when the pipeline's shutdown runs out of time.
func (p *pipeline) bounded(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.aborted, cancel)
	return ctx, func() { stop(); cancel() }
}

func (p *pipeline) closeAll() {
	p.abort()
	for _, c := range p.closers {
		c()
	}
}
