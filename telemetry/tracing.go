package telemetry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ResourceInfo is the service identity put on every span's resource. Empty fields are
// left out (and then OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES may supply them).
type ResourceInfo struct {
	// ServiceName becomes service.name.
	ServiceName string
	// Version becomes service.version.
	Version string
	// Namespace becomes service.namespace.
	Namespace string
	// InstanceID becomes service.instance.id.
	InstanceID string
	// Environment becomes deployment.environment.name (development, staging, production).
	Environment string
}

// TracingOption customizes [NewTracing].
type TracingOption func(*tracingOptions)

type tracingOptions struct {
	logger     *slog.Logger
	console    io.Writer
	processors []sdktrace.SpanProcessor
	exporters  map[string]Exporter // linked in with WithExporter, by name
}

// WithLogger sets the logger that reports failed exports; nil (the default) discards.
// Header values never reach it.
func WithLogger(l *slog.Logger) TracingOption {
	return func(o *tracingOptions) { o.logger = l }
}

// WithConsoleWriter sets where the console exporter writes; the default is os.Stdout.
func WithConsoleWriter(w io.Writer) TracingOption {
	return func(o *tracingOptions) { o.console = w }
}

// WithSpanProcessor adds a span processor (for example an in-memory
// tracetest.SpanRecorder in tests) beside the configured exporters. It makes the
// provider record spans even when no exporter is configured.
func WithSpanProcessor(p sdktrace.SpanProcessor) TracingOption {
	return func(o *tracingOptions) { o.processors = append(o.processors, p) }
}

// Tracing owns a tracer provider built from a [TracingConfig]: its exporters, sampler,
// resource and propagator. Build it with [NewTracing] and end it with [Tracing.Shutdown].
// A Tracing is safe for concurrent use.
type Tracing struct {
	tp        trace.TracerProvider
	sdk       *sdktrace.TracerProvider // nil when tracing is a no-op
	prop      propagation.TextMapPropagator
	exporter  string
	abort     context.CancelFunc // cancels in-flight exports when a shutdown runs out of time
	closeOnce sync.Once
	closeErr  error
}

// NewTracing builds the tracer provider that cfg describes for the service res.
//
// The resource holds, from lowest to highest precedence: the SDK's telemetry.sdk.*
// attributes, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, and the non-empty fields of
// res. Code wins, as the OpenTelemetry resource specification requires ("the user
// provided resource information has higher priority"), so the name in traces is the
// name in the catalog; operators add attributes or fill fields the code leaves empty.
// With no service name anywhere, service.name is "unknown_service:<executable>".
//
// With cfg.Disabled, or no exporter and no [WithSpanProcessor], the provider is the
// OpenTelemetry no-op provider: spans cost a context lookup, are never recorded, and
// incoming trace context still passes through to logs and outgoing calls.
//
// Exports run in a batch span processor off the request path ([NewBatchSpanProcessor]):
// a slow or unreachable collector never blocks a request (spans are dropped when the
// queue is full).
// NewTracing does not connect to the collector. It never sets the global provider;
// call [Tracing.SetGlobal] for that.
func NewTracing(ctx context.Context, cfg TracingConfig, res ResourceInfo, opts ...TracingOption) (*Tracing, error) {
	o := tracingOptions{console: os.Stdout}
	for _, opt := range opts {
		opt(&o)
	}
	logger := OrDiscard(o.logger)
	t := &Tracing{prop: newPropagator(cfg.Propagators), exporter: ExporterNone}
	if cfg.Disabled || (len(cfg.Exporters) == 0 && len(o.processors) == 0) {
		t.tp = noop.NewTracerProvider()
		return t, nil
	}

	r, err := newResource(ctx, cfg, res)
	if err != nil {
		return nil, err
	}
	abortCtx, abort := context.WithCancel(context.Background())
	t.abort = abort
	popts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(r),
		sdktrace.WithSampler(newSampler(cfg)),
		// Explicit, so the SDK never reads the OTEL_*_LIMIT variables itself.
		sdktrace.WithRawSpanLimits(cfg.SpanLimits.sdk()),
	}
	var names []string
	for _, name := range cfg.Exporters {
		exp, closeIdle, label, err := newExporter(ctx, cfg, name, o)
		if err != nil {
			abort()
			return nil, err
		}
		names = append(names, label)
		popts = append(popts, sdktrace.WithSpanProcessor(NewBatchSpanProcessor(&guardedExporter{next: exp, closeIdle: closeIdle, name: label, logger: logger, abort: abortCtx}, cfg.Batch.options()...)))
	}
	for _, p := range o.processors {
		popts = append(popts, sdktrace.WithSpanProcessor(p))
	}
	if len(names) > 0 {
		t.exporter = strings.Join(names, ",")
	}
	t.sdk = sdktrace.NewTracerProvider(popts...)
	t.tp = t.sdk
	if NeverSamplesRoot(cfg) {
		t.tp = DeclareRootNeverSampled(t.sdk)
	}
	return t, nil
}

// TracerProvider returns the provider to pass to instrumentation. When the configured
// sampler never samples a root ([NeverSamplesRoot]), the provider is declared so
// ([DeclareRootNeverSampled]) and the transports' server middleware starts no span for
// a request that arrives without a sampled trace context.
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.tp }

// Propagator returns the configured propagator: W3C tracecontext and baggage unless
// OTEL_PROPAGATORS says otherwise.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.prop }

// Exporter names the exporters in use, for compliance facts: "none", "otlp/http/protobuf",
// "otlp/http/json", "otlp/grpc", "console", or several joined by commas.
func (t *Tracing) Exporter() string { return t.exporter }

// Recording reports whether spans are recorded (an SDK provider, not the no-op one).
func (t *Tracing) Recording() bool { return t.sdk != nil }

// SetGlobal installs the provider and propagator as OpenTelemetry's globals, for
// third-party libraries that only use otel.GetTracerProvider. Paved never calls it itself.
func (t *Tracing) SetGlobal() {
	otel.SetTracerProvider(t.tp)
	otel.SetTextMapPropagator(t.prop)
}

// ForceFlush exports all ended spans now, waiting at most until ctx ends.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

// Shutdown flushes buffered spans and stops the exporters. It returns when done or
// when ctx ends, whichever is first; at that moment exports still in flight are
// cancelled, so an unreachable collector holds neither Shutdown nor any goroutine
// beyond ctx. Later calls return the first call's result.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	t.closeOnce.Do(func() {
		stop := context.AfterFunc(ctx, t.abort)
		defer stop()
		if err := t.sdk.Shutdown(ctx); err != nil {
			t.closeErr = fmt.Errorf("telemetry: flushing spans: %w", err)
		}
		t.abort()
	})
	return t.closeErr
}

// NewResource returns the OpenTelemetry resource [NewTracing] puts on spans for the
// service res under cfg (see there for the precedence of its sources), for
// [NewTargetInfoCollector] and other signals that describe the same service.
func NewResource(ctx context.Context, cfg TracingConfig, res ResourceInfo) (*resource.Resource, error) {
	return newResource(ctx, cfg, res)
}

func newResource(ctx context.Context, cfg TracingConfig, res ResourceInfo) (*resource.Resource, error) {
	attrs := make([]attribute.KeyValue, 0, len(cfg.ResourceAttributes)+6)
	attrs = append(attrs, cfg.ResourceAttributes...)
	if cfg.ServiceName != "" {
		attrs = append(attrs, semconv.ServiceName(cfg.ServiceName))
	}
	add := func(kv attribute.KeyValue) {
		if kv.Value.AsString() != "" {
			attrs = append(attrs, kv)
		}
	}
	add(semconv.ServiceName(res.ServiceName))
	add(semconv.ServiceVersion(res.Version))
	add(semconv.ServiceNamespace(res.Namespace))
	add(semconv.ServiceInstanceID(res.InstanceID))
	add(semconv.DeploymentEnvironmentNameKey.String(res.Environment))
	if set := attribute.NewSet(attrs...); !set.HasValue(semconv.ServiceNameKey) {
		attrs = append([]attribute.KeyValue{semconv.ServiceName("unknown_service:" + filepath.Base(os.Args[0]))}, attrs...)
	}
	// Later attributes win in a set, so the order above is the precedence order.
	r, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(attrs...),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: building the trace resource: %w", err)
	}
	return r, nil
}

func newSampler(cfg TracingConfig) sdktrace.Sampler {
	switch cfg.Sampler {
	case SamplerAlwaysOn:
		return sdktrace.AlwaysSample()
	case SamplerAlwaysOff:
		return sdktrace.NeverSample()
	case SamplerTraceIDRatio:
		return sdktrace.TraceIDRatioBased(cfg.SamplerArg)
	case SamplerParentBasedAlwaysOff:
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case SamplerParentBasedTraceIDRatio:
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SamplerArg))
	default:
		return sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
}

// newExporter builds one exporter with every setting given explicitly, so the exporter
// never falls back to reading OTEL_* variables we did not validate. OTLP over HTTP is
// built here; the console and OTLP/gRPC exporters come from WithExporter.
func newExporter(ctx context.Context, cfg TracingConfig, name string, o tracingOptions) (exp sdktrace.SpanExporter, closeIdle func(), label string, err error) {
	if name == ExporterConsole {
		e, ok := o.exporters[ExporterConsole]
		if !ok {
			return nil, nil, "", &ConfigError{Variable: "OTEL_TRACES_EXPORTER", Value: ExporterConsole,
				Valid: "this program does not link the console exporter: add service.WithTraceExporter(consoletrace.Exporter()) (package github.com/paved-road/paved/telemetry/consoletrace) to its main, or use otlp or none"}
		}
		exp, err := e.New(ctx, ExporterSettings{Console: o.console})
		if err != nil {
			return nil, nil, "", fmt.Errorf("telemetry: console exporter: %w", err)
		}
		return exp, func() {}, ExporterConsole, nil
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultOTLPTimeout
	}
	headers := cfg.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	proto := cfg.Protocol
	if proto == "" {
		proto = ProtocolHTTPProtobuf
	}
	linked, ok := o.exporters[ExporterOTLPGRPC]
	if proto == ProtocolGRPC && !ok {
		return nil, nil, "", &ConfigError{Variable: "OTEL_EXPORTER_OTLP_PROTOCOL", Value: ProtocolGRPC,
			Valid: "this program does not link the OTLP/gRPC exporter: add service.WithTraceExporter(otlpgrpc.Exporter()) (package github.com/paved-road/paved/telemetry/otlpgrpc) to its main, or use http/protobuf"}
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, nil, "", err
	}
	closeIdle = func() {}
	if proto == ProtocolGRPC {
		endpoint := cfg.Endpoint
		if endpoint == "" {
			endpoint = "http://localhost:4317"
		}
		exp, err = linked.New(ctx, ExporterSettings{Endpoint: endpoint, Headers: headers, Timeout: timeout,
			Gzip: cfg.Compression == "gzip", TLS: tlsCfg, Console: o.console})
	} else {
		endpoint := cfg.Endpoint
		if endpoint == "" {
			endpoint = "http://localhost:4318/v1/traces"
		}
		var client *http.Client
		client, closeIdle = ExporterHTTPClient(tlsCfg, timeout)
		hopts := []otlptracehttp.Option{
			otlptracehttp.WithEndpointURL(endpoint),
			otlptracehttp.WithHeaders(headers),
			otlptracehttp.WithHTTPClient(client),
			otlptracehttp.WithTimeout(timeout),
			otlptracehttp.WithCompression(otlptracehttp.NoCompression),
		}
		if cfg.Compression == "gzip" {
			hopts = append(hopts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		}
		if proto == ProtocolHTTPJSON {
			hopts = append(hopts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
		}
		exp, err = otlptracehttp.New(ctx, hopts...)
	}
	if err != nil {
		// The error may quote the configuration; keep header values out of it.
		return nil, nil, "", fmt.Errorf("telemetry: OTLP %s exporter for %s: %w", proto, RedactURL(cfg.Endpoint), redactSecrets(err, cfg.Endpoint, headers))
	}
	return exp, closeIdle, "otlp/" + proto, nil
}

// ExporterHTTPClient returns the HTTP client of an OTLP/HTTP exporter (traces here,
// metrics and logs in telemetry/otelexport): net/http's default transport settings on a
// transport of its own, not the exporters' package-wide one, so that a shutdown can close
// its idle connections (the func returned) and leave no goroutine behind.
func ExporterHTTPClient(tlsCfg *tls.Config, timeout time.Duration) (*http.Client, func()) {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tlsCfg,
	}
	return &http.Client{Transport: t, Timeout: timeout}, t.CloseIdleConnections
}

// redactSecrets replaces any header value, and the endpoint's user information, quoted
// in err's message.
func redactSecrets(err error, endpoint string, headers map[string]string) error {
	msg := err.Error()
	changed := false
	secrets := make([]string, 0, len(headers)+1)
	for _, v := range headers {
		secrets = append(secrets, v)
	}
	if u, perr := url.Parse(endpoint); perr == nil && u.User != nil {
		secrets = append(secrets, u.User.String())
	}
	for _, v := range secrets {
		if v != "" && strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, "REDACTED")
			changed = true
		}
	}
	if changed {
		return errors.New(msg)
	}
	return err
}

// guardedExporter logs failed exports and cancels in-flight exports when the owning
// Tracing's shutdown runs out of time (abort ends).
type guardedExporter struct {
	next      sdktrace.SpanExporter
	closeIdle func()
	name      string
	logger    *slog.Logger
	abort     context.Context
}

func (e *guardedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.abort, cancel)
	defer stop()
	err := e.next.ExportSpans(ctx, spans)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "telemetry: span export failed",
			slog.String("exporter", e.name), slog.Int("spans", len(spans)), slog.Any("error", err))
	}
	return err
}

func (e *guardedExporter) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.abort, cancel)
	defer stop()
	err := e.next.Shutdown(ctx)
	e.closeIdle()
	return err
}
