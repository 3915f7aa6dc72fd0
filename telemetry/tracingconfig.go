package telemetry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Trace exporter names accepted in OTEL_TRACES_EXPORTER.
const (
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// OTLP protocols accepted in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
	ProtocolGRPC         = "grpc"
)

// Sampler names accepted in OTEL_TRACES_SAMPLER.
const (
	SamplerAlwaysOn                = "always_on"
	SamplerAlwaysOff               = "always_off"
	SamplerTraceIDRatio            = "traceidratio"
	SamplerParentBasedAlwaysOn     = "parentbased_always_on"
	SamplerParentBasedAlwaysOff    = "parentbased_always_off"
	SamplerParentBasedTraceIDRatio = "parentbased_traceidratio"
)

// Propagator names accepted in OTEL_PROPAGATORS.
const (
	PropagatorTraceContext = "tracecontext"
	PropagatorBaggage      = "baggage"
	PropagatorNone         = "none"
)

// DefaultOTLPTimeout is the OTLP export timeout when OTEL_EXPORTER_OTLP_TIMEOUT is unset.
const DefaultOTLPTimeout = 10 * time.Second

// TracingConfig is the tracing configuration, normally read from the standard OpenTelemetry
// environment variables by [TracingConfigFromEnv]. The zero value disables exporting:
// no exporter, parent-based always-on sampling, W3C tracecontext and baggage propagation.
//
// Headers may hold secrets; TracingConfig's String and GoString methods print them
// redacted, and no error of this package ever contains a header value.
type TracingConfig struct {
	// Disabled turns the SDK off (OTEL_SDK_DISABLED=true): a no-op tracer provider that
	// still passes incoming trace context on.
	Disabled bool
	// ServiceName is OTEL_SERVICE_NAME; see [NewTracing] for how it merges with code.
	ServiceName string
	// ResourceAttributes are the decoded OTEL_RESOURCE_ATTRIBUTES, in order.
	ResourceAttributes []attribute.KeyValue
	// Exporters lists ExporterOTLP and/or ExporterConsole; empty means none.
	Exporters []string
	// Endpoint is the URL spans are sent to. For the HTTP protocols it is the full
	// traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or
	// OTEL_EXPORTER_OTLP_ENDPOINT with "/v1/traces" appended). For grpc it is the
	// collector's URL; the scheme http means plaintext. Empty means the OTLP default
	// (http://localhost:4318/v1/traces, or http://localhost:4317 for grpc).
	Endpoint string
	// Protocol is ProtocolHTTPProtobuf (empty means this), ProtocolHTTPJSON or ProtocolGRPC.
	Protocol string
	// Headers are sent with every export request (OTEL_EXPORTER_OTLP_HEADERS). Secret.
	Headers map[string]string
	// Certificate is a PEM file of CA certificates to trust for an https endpoint
	// (OTEL_EXPORTER_OTLP_CERTIFICATE); empty means the system's roots.
	Certificate string
	// ClientCertificate and ClientKey are PEM files for mutual TLS
	// (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_KEY); both or neither.
	ClientCertificate, ClientKey string
	// Timeout bounds one export request; zero means DefaultOTLPTimeout.
	Timeout time.Duration
	// Compression is "gzip" or "" (none) (OTEL_EXPORTER_OTLP_COMPRESSION).
	Compression string
	// Sampler is one of the Sampler* names; empty means SamplerParentBasedAlwaysOn.
	Sampler string
	// SamplerArg is the ratio of the trace-id-ratio samplers, in [0, 1]; it is 1 when the
	// variable is unset (OTEL_TRACES_SAMPLER_ARG) and ignored by the other samplers.
	SamplerArg float64
	// Propagators lists PropagatorTraceContext and/or PropagatorBaggage; nil means both.
	// An empty non-nil list (OTEL_PROPAGATORS=none) propagates nothing.
	Propagators []string
	// Batch holds the batch span processor's settings (OTEL_BSP_*); zero fields mean
	// the SDK's defaults.
	Batch BatchConfig
	// SpanLimits bounds what a span records (OTEL_SPAN_*_LIMIT, OTEL_EVENT_* and
	// OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_*_LIMIT); nil fields mean the
	// SDK's defaults.
	SpanLimits SpanLimits
	// Metrics says where metrics go (OTEL_METRICS_EXPORTER, OTEL_METRIC_EXPORT_*,
	// OTEL_EXPORTER_OTLP_METRICS_*).
	Metrics MetricsConfig
	// Logs says where log records go besides the log output (OTEL_LOGS_EXPORTER,
	// OTEL_BLRP_*, OTEL_LOGRECORD_*, OTEL_EXPORTER_OTLP_LOGS_*).
	Logs LogsConfig
	// Ignored lists the OpenTelemetry variables that were set but have no effect in
	// Paved (such as the OTLP settings of a signal not exported over OTLP), for the
	// caller to log; [TracingConfigFromEnv] fills it.
	Ignored []IgnoredVariable
}

// String describes c with header values and the endpoint's password redacted, so a
// config can be logged.
func (c TracingConfig) String() string {
	keys := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		keys = append(keys, k+"=REDACTED")
	}
	return fmt.Sprintf("TracingConfig{Disabled:%t ServiceName:%q Exporters:%v Endpoint:%q Protocol:%q Headers:%v Timeout:%v Compression:%q Sampler:%q SamplerArg:%v Propagators:%v Batch:%+v}",
		c.Disabled, c.ServiceName, c.Exporters, RedactURL(c.Endpoint), c.Protocol, keys, c.Timeout, c.Compression, c.Sampler, c.SamplerArg, c.Propagators, c.Batch)
}

// GoString is String, so %#v does not print header values either.
func (c TracingConfig) GoString() string { return c.String() }

// ConfigError reports one bad environment variable. The message names the variable, the
// bad value (except for header variables, whose values may be secret) and what is valid.
type ConfigError struct {
	// Variable is the environment variable's name, such as "OTEL_TRACES_SAMPLER".
	Variable string
	// Value is the bad value; empty for secret variables.
	Value string
	// Valid says what would be accepted.
	Valid string
}

// Error returns "telemetry: VARIABLE=VALUE is not valid: VALID".
func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("telemetry: %s is not valid: %s", e.Variable, e.Valid)
	}
	return fmt.Sprintf("telemetry: %s=%q is not valid: %s", e.Variable, e.Value, e.Valid)
}

// TracingConfigFromEnv reads the OpenTelemetry SDK's standard variables through lookup
// (os.LookupEnv in production) and validates them all, returning every problem at once
// as errors joined with [errors.Join], each a *[ConfigError]. An empty value counts as
// unset, as the OpenTelemetry specification says. The variables read:
//
//   - OTEL_SDK_DISABLED: true or false (any case).
//   - OTEL_SERVICE_NAME: any string.
//   - OTEL_RESOURCE_ATTRIBUTES: key1=value1,key2=value2 with percent-encoded values.
//   - OTEL_TRACES_EXPORTER: otlp, console, or none, or a comma-separated list of otlp
//     and console. Unset means otlp when an OTLP endpoint variable is set and none
//     otherwise: Paved exports only when told where to (the specification's default is
//     otlp, which sends to localhost and fails on every machine without a collector).
//   - OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: absolute http or
//     https URLs; the traces variable wins and is used as is. (Of every such pair the
//     traces variable wins; the generic one is still checked, as it applies to every
//     signal.)
//   - OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: http/protobuf
//     (default), http/json or grpc.
//   - OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS: key=value pairs
//     separated by commas, values percent-encoded; an error names the entry's position,
//     never its text.
//   - OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: whole milliseconds.
//   - OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: gzip or none.
//   - OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
//     OTEL_EXPORTER_OTLP_CLIENT_KEY (and their TRACES_ forms): readable PEM files; the
//     client certificate and key go together.
//   - OTEL_TRACES_SAMPLER: always_on, always_off, traceidratio, parentbased_always_on
//     (default), parentbased_always_off, parentbased_traceidratio.
//   - OTEL_TRACES_SAMPLER_ARG: a number from 0 to 1, for the ratio samplers.
//   - OTEL_PROPAGATORS: tracecontext, baggage or none, comma-separated.
//   - OTEL_EXPORTER_OTLP_INSECURE, OTEL_EXPORTER_OTLP_TRACES_INSECURE: true or false.
//     The endpoint's scheme decides between TLS (https) and plaintext (http), so a
//     value the scheme contradicts is refused.
//   - OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT: whole milliseconds from 1 to
//     3600000; OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: whole numbers,
//     1 or more, the batch no larger than the queue.
//   - OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
//     OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT,
//     OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, and the
//     generic OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT and OTEL_ATTRIBUTE_COUNT_LIMIT (which the
//     span ones override): whole numbers, 0 or more.
//   - OTEL_GO_X_OBSERVABILITY, OTEL_GO_X_RESOURCE: true or false (experimental
//     features the SDK reads itself).
//   - OTEL_METRICS_EXPORTER: prometheus or none (metrics are served on /metrics);
//     OTEL_LOGS_EXPORTER: none (logs go to stderr). Any other value is refused, as are
//     OTEL_EXPORTER_PROMETHEUS_HOST and _PORT (use ADMIN_ADDR) and OTEL_CONFIG_FILE.
//   - The variables of metrics and logs export (OTEL_EXPORTER_OTLP_METRICS_*,
//     OTEL_EXPORTER_OTLP_LOGS_*, OTEL_METRIC_EXPORT_*, OTEL_BLRP_*, OTEL_LOGRECORD_*),
//     OTEL_LOG_LEVEL and OTEL_EXPORTER_ZIPKIN_*: they change nothing, and each one set
//     is listed in TracingConfig.Ignored, for the caller to log.
//
// Every setting is passed to the SDK and the exporters explicitly ([NewTracing]), so
// they never read a variable that was not validated here.
func TracingConfigFromEnv(lookup func(string) (string, bool)) (TracingConfig, error) {
	get := func(name string) string {
		v, ok := lookup(name)
		if !ok {
			return ""
		}
		return strings.TrimSpace(v)
	}
	var errs []error
	bad := func(variable, value, valid string) {
		errs = append(errs, &ConfigError{Variable: variable, Value: value, Valid: valid})
	}

	var c TracingConfig

	if v := get("OTEL_SDK_DISABLED"); v != "" {
		switch strings.ToLower(v) {
		case "true":
			c.Disabled = true
		case "false":
		default:
			bad("OTEL_SDK_DISABLED", v, "use true or false")
		}
	}

	c.ServiceName = get("OTEL_SERVICE_NAME")

	if v := get("OTEL_RESOURCE_ATTRIBUTES"); v != "" {
		pairs, err := parsePairs(v)
		if err != nil {
			bad("OTEL_RESOURCE_ATTRIBUTES", v, err.Error()+"; use key1=value1,key2=value2 with percent-encoded values")
		}
		for _, p := range pairs {
			c.ResourceAttributes = append(c.ResourceAttributes, attribute.String(p[0], p[1]))
		}
	}

	o := otlpEnv("TRACES", "/v1/traces", get, bad, true)
	c.Endpoint, c.Protocol, c.Headers, c.Timeout, c.Compression = o.Endpoint, o.Protocol, o.Headers, o.Timeout, o.Compression
	c.Certificate, c.ClientCertificate, c.ClientKey = o.Certificate, o.ClientCertificate, o.ClientKey

	if v := get("OTEL_TRACES_EXPORTER"); v != "" {
		none, valid := false, true
		for _, name := range strings.Split(v, ",") {
			switch name = strings.ToLower(strings.TrimSpace(name)); name {
			case ExporterOTLP, ExporterConsole:
				if !slices.Contains(c.Exporters, name) {
					c.Exporters = append(c.Exporters, name)
				}
			case ExporterNone:
				none = true
			default:
				valid = false
			}
		}
		switch {
		case !valid:
			bad("OTEL_TRACES_EXPORTER", v, "use otlp, console or none, or a comma-separated list of otlp and console")
		case none && len(c.Exporters) > 0:
			bad("OTEL_TRACES_EXPORTER", v, "none cannot be combined with other exporters")
		}
	} else if c.Endpoint != "" {
		c.Exporters = []string{ExporterOTLP}
	}

	sampler := strings.ToLower(get("OTEL_TRACES_SAMPLER"))
	switch sampler {
	case "", SamplerAlwaysOn, SamplerAlwaysOff, SamplerTraceIDRatio,
		SamplerParentBasedAlwaysOn, SamplerParentBasedAlwaysOff, SamplerParentBasedTraceIDRatio:
		c.Sampler = sampler
	default:
		bad("OTEL_TRACES_SAMPLER", get("OTEL_TRACES_SAMPLER"), "use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")
	}
	c.SamplerArg = 1
	if v := get("OTEL_TRACES_SAMPLER_ARG"); v != "" && (sampler == SamplerTraceIDRatio || sampler == SamplerParentBasedTraceIDRatio) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			bad("OTEL_TRACES_SAMPLER_ARG", v, "use a number from 0 to 1, such as 0.1")
		} else {
			c.SamplerArg = f
		}
	}

	if v := get("OTEL_PROPAGATORS"); v != "" {
		c.Propagators = []string{}
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			switch name {
			case PropagatorTraceContext, PropagatorBaggage:
				c.Propagators = append(c.Propagators, name)
			case PropagatorNone:
			default:
				bad("OTEL_PROPAGATORS", v, "use tracecontext, baggage or none, comma-separated (b3, jaeger and xray are not built in)")
			}
		}
	}

	sdkEnv(&c, get, bad)
	insecureEnv(&c, get, bad)
	errs = append(errs, overriddenErrors(lookup, get)...)

	if err := errors.Join(errs...); err != nil {
		return TracingConfig{}, err
	}
	return c, nil
}

// overriddenErrors checks the generic OTLP variables that a traces variable overrides:
// they still apply to every other signal, so a bad one is reported, not ignored. It
// reads the environment again without the traces variables and keeps the errors about
// those generic ones.
func overriddenErrors(lookup func(string) (string, bool), get func(string) string) []error {
	var overridden []string
	for _, s := range []string{"ENDPOINT", "PROTOCOL", "HEADERS", "TIMEOUT", "COMPRESSION", "CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"} {
		if get("OTEL_EXPORTER_OTLP_TRACES_"+s) != "" && get("OTEL_EXPORTER_OTLP_"+s) != "" {
			overridden = append(overridden, "OTEL_EXPORTER_OTLP_"+s)
		}
	}
	if len(overridden) == 0 {
		return nil
	}
	_, err := TracingConfigFromEnv(func(name string) (string, bool) {
		if strings.HasPrefix(name, "OTEL_EXPORTER_OTLP_TRACES_") {
			return "", false
		}
		return lookup(name)
	})
	j, _ := err.(interface{ Unwrap() []error })
	if j == nil {
		return nil
	}
	var out []error
	for _, e := range j.Unwrap() {
		var ce *ConfigError
		if errors.As(e, &ce) && slices.Contains(overridden, ce.Variable) {
			out = append(out, e)
		}
	}
	return out
}

// maxPEMFile bounds what readPEMFile reads.
const maxPEMFile = 1 << 20

// readPEMFile reads a certificate or key file: a regular file of at most 1 MiB, so a
// variable naming a FIFO or a device (/dev/stdin, /dev/zero) is refused at once instead
// of blocking or filling memory.
func readPEMFile(file string) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > maxPEMFile {
		return nil, errors.New("larger than 1 MiB")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxPEMFile))
}

// loadKeyPair reads a client certificate and its key with readPEMFile.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := readPEMFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := readPEMFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(cert, key)
}

func loadCertPool(file string) (*x509.CertPool, error) {
	pem, err := readPEMFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate in the file")
	}
	return pool, nil
}

// tlsConfig returns the TLS settings of c, or nil when c sets none.
func (c TracingConfig) tlsConfig() (*tls.Config, error) {
	if c.Certificate == "" && c.ClientCertificate == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.Certificate != "" {
		pool, err := loadCertPool(c.Certificate)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP CA certificate %s: %w", c.Certificate, err)
		}
		cfg.RootCAs = pool
	}
	if c.ClientCertificate != "" {
		pair, err := loadKeyPair(c.ClientCertificate, c.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP client certificate %s: %w", c.ClientCertificate, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// parsePairs decodes the W3C-baggage-like list key1=value1,key2=value2 used by
// OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. Its errors name entries by
// position only, so they are safe for secret lists.
func parsePairs(s string) ([][2]string, error) {
	var out [][2]string
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %d has a bad percent-encoding", i+1)
		}
		out = append(out, [2]string{k, val})
	}
	return out, nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// NeverSamplesRoot reports whether the sampler cfg describes never samples a request
// that arrives without a sampled trace context: always_off, parentbased_always_off, and
// the trace-id-ratio samplers with a ratio of 0 or less. [NewTracing] then declares its
// provider so ([DeclareRootNeverSampled]). A disabled configuration gives the no-op
// provider, which the middleware recognizes by itself; NeverSamplesRoot reports true for
// it too.
func NeverSamplesRoot(cfg TracingConfig) bool {
	switch cfg.Sampler {
	case SamplerAlwaysOff, SamplerParentBasedAlwaysOff:
		return true
	case SamplerTraceIDRatio, SamplerParentBasedTraceIDRatio:
		return cfg.SamplerArg <= 0
	}
	return cfg.Disabled
}

// DeclareRootNeverSampled returns tp declared as a provider whose sampler never samples
// a span without a sampled parent (always_off, parentbased_always_off, a ratio of 0).
// The transports' server middleware then starts no span for a request that arrives
// without a sampled trace context, which saves the SDK a span nobody records (about
// 0.7 µs and two allocations a request): handlers, logs and outgoing calls see the
// caller's trace context when it sent one, and none otherwise. A request that arrives
// sampled still gets its server span, as a parent-based sampler wants.
//
// [NewTracing] declares its provider when [NeverSamplesRoot] holds for its
// configuration; declare a provider of your own (service.WithTracerProvider) only if
// its sampler really never samples a root, or those traces are lost. The declared
// provider is tp for everything else (its tracers are tp's); keep tp itself to flush
// and shut it down.
func DeclareRootNeverSampled(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil || RootNeverSampled(tp) {
		return tp
	}
	return rootlessProvider{tp}
}

// RootNeverSampled reports whether tp was declared with [DeclareRootNeverSampled], or
// is OpenTelemetry's no-op provider (what [OrNoopTracer] gives a component built
// without a provider), which records nothing: a span it starts only repeats its
// parent's context, which the caller's context carries already.
func RootNeverSampled(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case rootlessProvider, noop.TracerProvider:
		return true
	}
	return false
}

// rootlessProvider is a provider declared never to sample a root span.
type rootlessProvider struct{ trace.TracerProvider }
