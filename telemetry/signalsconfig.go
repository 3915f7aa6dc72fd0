package telemetry

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ExporterPrometheus is the OTEL_METRICS_EXPORTER name of the Prometheus exposition:
// /metrics on the admin address.
const ExporterPrometheus = "prometheus"

// Defaults of the periodic metric reader (OTEL_METRIC_EXPORT_INTERVAL and
// OTEL_METRIC_EXPORT_TIMEOUT unset), as the OpenTelemetry specification gives them.
const (
	DefaultMetricExportInterval = 60 * time.Second
	DefaultMetricExportTimeout  = 30 * time.Second
)

// MetricsConfig says where the service's metrics go, from OTEL_METRICS_EXPORTER and
// the metric export variables. Every exporter reads the same instruments: the
// service's Prometheus registry, served at /metrics and pushed over OTLP by the
// OpenTelemetry SDK through the Prometheus bridge (package telemetry/otelexport).
type MetricsConfig struct {
	// Exporters lists ExporterPrometheus, ExporterOTLP and ExporterConsole. Unset
	// (nil) means prometheus; an empty non-nil list (none) exports nothing, not even
	// /metrics.
	Exporters []string
	// OTLP holds the OTLP settings (OTEL_EXPORTER_OTLP_METRICS_*, else the generic ones).
	OTLP OTLPConfig
	// Interval is the time between two pushes (OTEL_METRIC_EXPORT_INTERVAL); zero means
	// DefaultMetricExportInterval.
	Interval time.Duration
	// Timeout bounds one push (OTEL_METRIC_EXPORT_TIMEOUT); zero means
	// DefaultMetricExportTimeout.
	Timeout time.Duration
}

// ServesMetrics reports whether cfg serves /metrics: prometheus is among the metrics
// exporters, or OTEL_METRICS_EXPORTER is unset. (A function, not a method, so that it
// costs nothing in a program that does not call it.)
func ServesMetrics(cfg TracingConfig) bool {
	return cfg.Metrics.Exporters == nil || slices.Contains(cfg.Metrics.Exporters, ExporterPrometheus)
}

// PushedMetrics returns the metrics exporters of cfg that push (otlp, console), in order.
func PushedMetrics(cfg TracingConfig) []string {
	var out []string
	for _, e := range cfg.Metrics.Exporters {
		if e != ExporterPrometheus {
			out = append(out, e)
		}
	}
	return out
}

// LogsConfig says where the service's log records go besides its own log output
// (LOG_FORMAT on stderr, which always stays), from OTEL_LOGS_EXPORTER and the log
// export variables.
type LogsConfig struct {
	// Exporters lists ExporterOTLP and ExporterConsole; empty means none (the default).
	Exporters []string
	// OTLP holds the OTLP settings (OTEL_EXPORTER_OTLP_LOGS_*, else the generic ones).
	OTLP OTLPConfig
	// Batch holds the batch log record processor's settings (OTEL_BLRP_*); zero fields
	// mean the defaults (1s delay, 30s timeout, queue 2048, batch 512).
	Batch BatchConfig
	// AttributeValueLength is the longest string attribute value a record keeps
	// (OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT, else
	// OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT); nil means no limit.
	AttributeValueLength *int
	// AttributeCount is the most attributes a record keeps
	// (OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT, else OTEL_ATTRIBUTE_COUNT_LIMIT); nil
	// means 128.
	AttributeCount *int
}

// exporterList reads a comma-separated exporter list of variable, each name one of
// valid or none; none alone gives an empty non-nil list.
func exporterList(variable string, get func(string) string, bad func(variable, value, valid string), valid ...string) []string {
	v := get(variable)
	if v == "" {
		return nil
	}
	out := []string{}
	none, ok := false, true
	for _, name := range strings.Split(v, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == ExporterNone:
			none = true
		case slices.Contains(valid, name):
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		default:
			ok = false
		}
	}
	switch {
	case !ok:
		bad(variable, v, "use "+strings.Join(valid, ", ")+" or none, or a comma-separated list of "+strings.Join(valid, " and "))
		return nil
	case none && len(out) > 0:
		bad(variable, v, "use none alone, or a list without it: none cannot be combined with other exporters")
		return nil
	}
	return out
}

// signalsEnv reads the metrics and logs export variables into c.
func signalsEnv(c *TracingConfig, get func(string) string, bad func(variable, value, valid string),
	millis func(name string, dst *time.Duration), whole func(name string, lowest int, valid string) (int, bool, bool)) {
	m := &c.Metrics
	m.Exporters = exporterList("OTEL_METRICS_EXPORTER", get, bad, ExporterPrometheus, ExporterOTLP, ExporterConsole)
	m.OTLP = otlpEnv("METRICS", "/v1/metrics", get, bad, false)
	millis("OTEL_METRIC_EXPORT_INTERVAL", &m.Interval)
	millis("OTEL_METRIC_EXPORT_TIMEOUT", &m.Timeout)

	l := &c.Logs
	l.Exporters = exporterList("OTEL_LOGS_EXPORTER", get, bad, ExporterOTLP, ExporterConsole)
	l.OTLP = otlpEnv("LOGS", "/v1/logs", get, bad, false)
	// The generic limits are checked (and reported) with the span limits; a bad one
	// leaves the default here.
	logLimit := func(dst **int, name, generic string) {
		n, set, ok := whole(name, 0, "use a whole number, 0 or more (0 records none; unset means the default)")
		if set {
			if ok {
				*dst = &n
			}
			return
		}
		if g, err := strconv.Atoi(get(generic)); err == nil && g >= 0 {
			*dst = &g
		}
	}
	logLimit(&l.AttributeValueLength, "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
	logLimit(&l.AttributeCount, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT")

	// The OpenTelemetry Go metrics and logs exporters speak protobuf only.
	for i, signal := range [2]string{"METRICS", "LOGS"} {
		o, exporters := m.OTLP, m.Exporters
		if i == 1 {
			o, exporters = l.OTLP, l.Exporters
		}
		if o.Protocol != ProtocolHTTPJSON || !slices.Contains(exporters, ExporterOTLP) {
			continue
		}
		name := "OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL"
		if get(name) == "" {
			name = "OTEL_EXPORTER_OTLP_PROTOCOL"
		}
		bad(name, ProtocolHTTPJSON, "use http/protobuf or grpc for "+strings.ToLower(signal)+" (http/json is for traces only; set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json to keep it there)")
	}

	// Settings of a signal that does not export over OTLP change nothing: say so.
	for _, s := range []struct {
		name, reason string
		otlp         bool
	}{
		{"METRICS", "OTEL_METRICS_EXPORTER does not include otlp (unset, it is prometheus: /metrics on ADMIN_ADDR)", slices.Contains(m.Exporters, ExporterOTLP)},
		{"LOGS", "OTEL_LOGS_EXPORTER does not include otlp (unset, it is none: logs go to the log output only)", slices.Contains(l.Exporters, ExporterOTLP)},
	} {
		if s.otlp {
			continue
		}
		for _, setting := range otlpSettings() {
			if name := "OTEL_EXPORTER_OTLP_" + s.name + "_" + setting; get(name) != "" {
				c.Ignored = append(c.Ignored, IgnoredVariable{name, s.reason})
			}
		}
	}
	if len(PushedMetrics(*c)) == 0 {
		for _, name := range []string{"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT"} {
			if get(name) != "" {
				c.Ignored = append(c.Ignored, IgnoredVariable{name, "OTEL_METRICS_EXPORTER includes neither otlp nor console: nothing is pushed"})
			}
		}
	}
	if len(l.Exporters) == 0 {
		for _, name := range []string{"OTEL_BLRP_SCHEDULE_DELAY", "OTEL_BLRP_EXPORT_TIMEOUT", "OTEL_BLRP_MAX_QUEUE_SIZE", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
			"OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT"} {
			if get(name) != "" {
				c.Ignored = append(c.Ignored, IgnoredVariable{name, "OTEL_LOGS_EXPORTER is none: logs go to the log output (LOG_FORMAT) only"})
			}
		}
	}
}
