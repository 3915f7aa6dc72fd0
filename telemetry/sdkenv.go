package telemetry

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BatchConfig holds the settings of the batch span processor in front of each exporter,
// from the OTEL_BSP_* variables. A zero field means the SDK's default; the SDK never
// reads these variables itself (see [NewBatchSpanProcessor]).
type BatchConfig struct {
	// ScheduleDelay is the longest a span waits before its batch is exported
	// (OTEL_BSP_SCHEDULE_DELAY, in milliseconds); zero means 5s.
	ScheduleDelay time.Duration
	// ExportTimeout bounds one export of a batch (OTEL_BSP_EXPORT_TIMEOUT, in
	// milliseconds); zero means 30s.
	ExportTimeout time.Duration
	// MaxQueueSize is how many ended spans wait for export before new ones are dropped
	// (OTEL_BSP_MAX_QUEUE_SIZE); zero means 2048.
	MaxQueueSize int
	// MaxExportBatchSize is the most spans in one export (OTEL_BSP_MAX_EXPORT_BATCH_SIZE);
	// zero means 512, or MaxQueueSize when that is smaller. It is never more than
	// MaxQueueSize.
	MaxExportBatchSize int
}

// options returns b as the SDK's options, every one given explicitly so that the SDK
// never falls back to the environment. Fields of zero or less take the defaults.
func (b BatchConfig) options() []sdktrace.BatchSpanProcessorOption {
	delay := b.ScheduleDelay
	if delay <= 0 {
		delay = sdktrace.DefaultScheduleDelay * time.Millisecond
	}
	timeout := b.ExportTimeout
	if timeout <= 0 {
		timeout = sdktrace.DefaultExportTimeout * time.Millisecond
	}
	queue := b.MaxQueueSize
	if queue <= 0 {
		queue = sdktrace.DefaultMaxQueueSize
	}
	batch := b.MaxExportBatchSize
	if batch <= 0 {
		batch = sdktrace.DefaultMaxExportBatchSize
	}
	return []sdktrace.BatchSpanProcessorOption{
		sdktrace.WithBatchTimeout(delay),
		sdktrace.WithExportTimeout(timeout),
		sdktrace.WithMaxQueueSize(queue),
		sdktrace.WithMaxExportBatchSize(min(batch, queue)),
	}
}

// SpanLimits bounds what one span records, from the span and attribute limit variables
// of the OpenTelemetry specification. A nil field means the SDK's default (shown with
// each field); zero records none; a negative value set in code means no limit. The SDK
// never reads these variables itself: [NewTracing] passes the limits explicitly.
type SpanLimits struct {
	// AttributeValueLength is the longest string attribute value kept, longer ones are
	// truncated (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, else
	// OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT); nil means no limit.
	AttributeValueLength *int
	// AttributeCount is the most attributes a span keeps (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
	// else OTEL_ATTRIBUTE_COUNT_LIMIT); nil means 128.
	AttributeCount *int
	// EventCount is the most events a span keeps (OTEL_SPAN_EVENT_COUNT_LIMIT); nil means 128.
	EventCount *int
	// LinkCount is the most links a span keeps (OTEL_SPAN_LINK_COUNT_LIMIT); nil means 128.
	LinkCount *int
	// AttributePerEventCount is the most attributes an event keeps
	// (OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT); nil means 128.
	AttributePerEventCount *int
	// AttributePerLinkCount is the most attributes a link keeps
	// (OTEL_LINK_ATTRIBUTE_COUNT_LIMIT); nil means 128.
	AttributePerLinkCount *int
}

// sdk returns l as the SDK's limits, defaults filled in.
func (l SpanLimits) sdk() sdktrace.SpanLimits {
	or := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	return sdktrace.SpanLimits{
		AttributeValueLengthLimit:   or(l.AttributeValueLength, sdktrace.DefaultAttributeValueLengthLimit),
		AttributeValueDepthLimit:    sdktrace.DefaultAttributeValueDepthLimit,
		AttributeCountLimit:         or(l.AttributeCount, sdktrace.DefaultAttributeCountLimit),
		EventCountLimit:             or(l.EventCount, sdktrace.DefaultEventCountLimit),
		LinkCountLimit:              or(l.LinkCount, sdktrace.DefaultLinkCountLimit),
		AttributePerEventCountLimit: or(l.AttributePerEventCount, sdktrace.DefaultAttributePerEventCountLimit),
		AttributePerLinkCountLimit:  or(l.AttributePerLinkCount, sdktrace.DefaultAttributePerLinkCountLimit),
	}
}

// IgnoredVariable is an OpenTelemetry variable that is set but has no effect in Paved,
// with the reason. It never holds the variable's value.
type IgnoredVariable struct {
	// Variable is the environment variable's name.
	Variable string
	// Reason says why it has no effect.
	Reason string
}

// ignoredVariables returns the variables of the OpenTelemetry specification that
// configure what Paved does not do through the OpenTelemetry SDK; setting them changes
// nothing, and each one set is reported in TracingConfig.Ignored, as are the settings
// of a signal that is not exported over OTLP (signalsEnv).
func ignoredVariables() []IgnoredVariable {
	const promInstruments = "Paved's metrics are Prometheus instruments, pushed as they are (cumulative, with the buckets set in code)"
	return []IgnoredVariable{
		{"OTEL_METRICS_EXEMPLAR_FILTER", "Paved's histograms carry the exemplar of the request's sampled span, whatever the exporter"},
		{"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", promInstruments},
		{"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", promInstruments},
		{"OTEL_LOG_LEVEL", "the OpenTelemetry SDK's own log level: Paved logs export failures at LOG_LEVEL"},
		{"OTEL_EXPORTER_ZIPKIN_ENDPOINT", "Paved has no Zipkin exporter (OTEL_TRACES_EXPORTER takes otlp or console)"},
		{"OTEL_EXPORTER_ZIPKIN_TIMEOUT", "Paved has no Zipkin exporter (OTEL_TRACES_EXPORTER takes otlp or console)"},
	}
}

// otlpSettings returns the suffixes of the per-signal OTLP exporter variables.
func otlpSettings() []string {
	return []string{"ENDPOINT", "HEADERS", "TIMEOUT", "COMPRESSION", "PROTOCOL", "INSECURE", "CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"}
}

// sdkEnv reads the variables that the OpenTelemetry SDK and exporters would otherwise
// read by themselves, and those of metrics and logs export, into c; bad reports each
// bad value.
func sdkEnv(c *TracingConfig, get func(string) string, bad func(variable, value, valid string)) {
	// whole reads a whole number of at least lowest, or returns ok false.
	whole := func(name string, lowest int, valid string) (n int, set, ok bool) {
		v := get(name)
		if v == "" {
			return 0, false, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lowest {
			bad(name, v, valid)
			return 0, true, false
		}
		return n, true, true
	}
	millis := func(name string, dst *time.Duration) {
		n, set, ok := whole(name, 1, "use a whole number of milliseconds from 1 to 3600000, such as 5000")
		if set && ok && n > int(time.Hour/time.Millisecond) {
			bad(name, get(name), "use a whole number of milliseconds from 1 to 3600000, such as 5000")
			return
		}
		if set && ok {
			*dst = time.Duration(n) * time.Millisecond
		}
	}
	batch := func(prefix, unit string, dst *BatchConfig) {
		millis(prefix+"SCHEDULE_DELAY", &dst.ScheduleDelay)
		millis(prefix+"EXPORT_TIMEOUT", &dst.ExportTimeout)
		if n, set, ok := whole(prefix+"MAX_QUEUE_SIZE", 1, "use a whole number of "+unit+", 1 or more, such as 2048"); set && ok {
			dst.MaxQueueSize = n
		}
		if n, set, ok := whole(prefix+"MAX_EXPORT_BATCH_SIZE", 1, "use a whole number of "+unit+", 1 or more, such as 512"); set && ok {
			// Both SDKs' default queue is 2048.
			if q := positiveOr(dst.MaxQueueSize, sdktrace.DefaultMaxQueueSize); n > q {
				bad(prefix+"MAX_EXPORT_BATCH_SIZE", get(prefix+"MAX_EXPORT_BATCH_SIZE"),
					"use a whole number of "+unit+" no larger than "+prefix+"MAX_QUEUE_SIZE ("+strconv.Itoa(q)+")")
			} else {
				dst.MaxExportBatchSize = n
			}
		}
	}
	batch("OTEL_BSP_", "spans", &c.Batch)
	batch("OTEL_BLRP_", "log records", &c.Logs.Batch)

	// limit reads the first set of names, each checked even when an earlier one wins.
	limit := func(dst **int, names ...string) {
		for _, name := range names {
			n, set, ok := whole(name, 0, "use a whole number, 0 or more (0 records none; unset means the default)")
			if set && ok && *dst == nil {
				*dst = &n
			}
		}
	}
	l := &c.SpanLimits
	limit(&l.AttributeValueLength, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
	limit(&l.AttributeCount, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT")
	limit(&l.EventCount, "OTEL_SPAN_EVENT_COUNT_LIMIT")
	limit(&l.LinkCount, "OTEL_SPAN_LINK_COUNT_LIMIT")
	limit(&l.AttributePerEventCount, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT")
	limit(&l.AttributePerLinkCount, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT")

	// Experimental features the SDK reads itself; it treats anything but true as false.
	for _, name := range []string{"OTEL_GO_X_OBSERVABILITY", "OTEL_GO_X_SELF_OBSERVABILITY", "OTEL_GO_X_RESOURCE"} {
		if v := get(name); v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			bad(name, v, "use true or false")
		}
	}

	signalsEnv(c, get, bad, millis, whole)
	for _, name := range []string{"OTEL_EXPORTER_PROMETHEUS_HOST", "OTEL_EXPORTER_PROMETHEUS_PORT"} {
		if v := get(name); v != "" {
			bad(name, v, "use ADMIN_ADDR instead, and leave this unset: Paved serves /metrics on the admin address")
		}
	}
	for _, name := range []string{"OTEL_CONFIG_FILE", "OTEL_EXPERIMENTAL_CONFIG_FILE"} {
		if v := get(name); v != "" {
			bad(name, v, "use the OTEL_* variables instead, and leave this unset: Paved does not read OpenTelemetry configuration files")
		}
	}
	for _, iv := range ignoredVariables() {
		if get(iv.Variable) != "" {
			c.Ignored = append(c.Ignored, iv)
		}
	}
}

// positiveOr returns a when it is positive, else b.
func positiveOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// insecureEnv checks OTEL_EXPORTER_OTLP_TRACES_INSECURE and OTEL_EXPORTER_OTLP_INSECURE
// (true or false, any case; the traces one wins) against the endpoint's scheme, which
// is what decides between TLS and plaintext in Paved: every endpoint has a scheme. A
// value the scheme contradicts is refused rather than ignored. The metrics and logs
// variables are checked the same way against their signal's endpoint.
func insecureEnv(c *TracingConfig, get func(string) string, bad func(variable, value, valid string)) {
	insecureCheck("TRACES", c.Endpoint, slices.Contains(c.Exporters, ExporterOTLP), get, bad, true)
	insecureCheck("METRICS", c.Metrics.OTLP.Endpoint, slices.Contains(c.Metrics.Exporters, ExporterOTLP), get, bad, false)
	insecureCheck("LOGS", c.Logs.OTLP.Endpoint, slices.Contains(c.Logs.Exporters, ExporterOTLP), get, bad, false)
}

// insecureCheck checks the insecure variables of signal against endpoint when the
// signal exports over OTLP; the generic variable is reported only when reportGeneric.
func insecureCheck(signal, endpoint string, exporting bool, get func(string) string, bad func(variable, value, valid string), reportGeneric bool) {
	var (
		name  string
		value bool
	)
	specific := "OTEL_EXPORTER_OTLP_" + signal + "_INSECURE"
	report := func(n, v, valid string) {
		if reportGeneric || n == specific {
			bad(n, v, valid)
		}
	}
	for _, n := range []string{specific, "OTEL_EXPORTER_OTLP_INSECURE"} {
		v := get(n)
		if v == "" {
			continue
		}
		var b bool
		switch strings.ToLower(v) {
		case "true":
			b = true
		case "false":
		default:
			report(n, v, "use true or false")
			continue
		}
		if name == "" {
			name, value = n, b
		}
	}
	if name == "" || !exporting {
		return
	}
	if endpoint == "" {
		endpoint = "http://localhost" // the OTLP default
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return // reported with the endpoint
	}
	switch {
	case value && u.Scheme == "https":
		report(name, get(name), "use false, or an http:// endpoint: the endpoint's scheme decides, and https means TLS")
	case !value && u.Scheme == "http":
		report(name, get(name), "use true, or an https:// endpoint: the endpoint's scheme decides, and http means plaintext")
	}
}

// RedactURL returns s with the user information of the URL in it replaced by "xxxxx":
// the password, as [url.URL.Redacted] does, or a user name that has no password (often
// a token). When s is not a single well-formed URL but holds "://" and a later "@" (an
// invalid URL, or a list of URLs), everything from the first "://" to the last "@" is
// replaced, so no password shows whatever the shape. Strings without "://" are
// returned as they are. Paved shows every setting's value through it: in /config,
// configuration errors, logs and the generated configuration reference.
func RedactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	at := strings.LastIndex(s, "@")
	if at < i {
		return s
	}
	if strings.Count(s, "@") == 1 && strings.Count(s, "://") == 1 {
		if u, err := url.Parse(s); err == nil && u.User != nil && u.Host != "" {
			if _, ok := u.User.Password(); ok {
				return u.Redacted()
			}
			u.User = url.User("xxxxx")
			return u.String()
		}
	}
	return s[:i+3] + "xxxxx" + s[at:]
}

// secretParams are query parameter names (lower case) whose values are secrets
// wherever they appear: the semantic conventions' list for url.query and url.full.
var secretParams = [...]string{"awsaccesskeyid", "signature", "sig", "x-goog-signature"}

// secretWords mark a query parameter name as holding a secret when it contains one
// (api_key, access_token, client_secret, password...).
var secretWords = [...]string{"token", "secret", "password", "passwd", "credential", "key", "auth", "session", "signature"}

// RedactQuery returns the raw query q (without its "?") with the value of every
// parameter whose name looks secret replaced by "REDACTED", as the OpenTelemetry
// semantic conventions ask for url.query and url.full: the names AWSAccessKeyId,
// Signature, sig and X-Goog-Signature, and any name holding token, secret, password,
// passwd, credential, key, auth, session or signature, in any letter case. Names,
// order and the other values are kept as they are. It does not allocate when nothing
// is redacted.
func RedactQuery(q string) string {
	if q == "" {
		return q
	}
	var b strings.Builder
	done := 0 // q[:done] is written to b
	for pos := 0; pos < len(q); {
		end := strings.IndexByte(q[pos:], '&')
		if end < 0 {
			end = len(q) - pos
		}
		param := q[pos : pos+end]
		if name, value, ok := strings.Cut(param, "="); ok && value != "" {
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if secretParam(name) {
				valueAt := pos + end - len(value)
				b.WriteString(q[done:valueAt])
				b.WriteString("REDACTED")
				done = pos + end
			}
		}
		pos += end + 1
	}
	if done == 0 {
		return q
	}
	b.WriteString(q[done:])
	return b.String()
}

func secretParam(name string) bool {
	for _, p := range secretParams {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	lower := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
