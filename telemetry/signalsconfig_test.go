package telemetry

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSignalVariablesBad: every variable of metrics and logs export refuses a bad value
// with a *ConfigError naming it and saying what is valid.
func TestSignalVariablesBad(t *testing.T) {
	tests := []struct {
		env      map[string]string
		variable string
	}{
		{map[string]string{"OTEL_METRICS_EXPORTER": "statsd"}, "OTEL_METRICS_EXPORTER"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "prometheus,none"}, "OTEL_METRICS_EXPORTER"},
		{map[string]string{"OTEL_LOGS_EXPORTER": "prometheus"}, "OTEL_LOGS_EXPORTER"},
		{map[string]string{"OTEL_LOGS_EXPORTER": "otlp,none"}, "OTEL_LOGS_EXPORTER"},
		{map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "60s"}, "OTEL_METRIC_EXPORT_INTERVAL"},
		{map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "0"}, "OTEL_METRIC_EXPORT_INTERVAL"},
		{map[string]string{"OTEL_METRIC_EXPORT_TIMEOUT": "-1"}, "OTEL_METRIC_EXPORT_TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "thrift"}, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "novalue"}, "OTEL_EXPORTER_OTLP_METRICS_HEADERS"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "10s"}, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "zstd"}, "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE": "/nonexistent/ca.pem"}, "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY": "/nonexistent/key.pem"}, "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_INSECURE": "yes"}, "OTEL_EXPORTER_OTLP_METRICS_INSECURE"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://c:4318/v1/metrics", "OTEL_EXPORTER_OTLP_METRICS_INSECURE": "true"}, "OTEL_EXPORTER_OTLP_METRICS_INSECURE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "ftp://collector"}, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_HEADERS": "bad key=1"}, "OTEL_EXPORTER_OTLP_LOGS_HEADERS"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "0"}, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "br"}, "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE": "/nonexistent/ca.pem"}, "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE": "/nonexistent/cert.pem"}, "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"},
		{map[string]string{"OTEL_EXPORTER_OTLP_LOGS_INSECURE": "2"}, "OTEL_EXPORTER_OTLP_LOGS_INSECURE"},
		{map[string]string{"OTEL_BLRP_SCHEDULE_DELAY": "1s"}, "OTEL_BLRP_SCHEDULE_DELAY"},
		{map[string]string{"OTEL_BLRP_EXPORT_TIMEOUT": "0"}, "OTEL_BLRP_EXPORT_TIMEOUT"},
		{map[string]string{"OTEL_BLRP_MAX_QUEUE_SIZE": "-5"}, "OTEL_BLRP_MAX_QUEUE_SIZE"},
		{map[string]string{"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "4096"}, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"},
		{map[string]string{"OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT": "long"}, "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT"},
		{map[string]string{"OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "-1"}, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT"},
		{map[string]string{"OTEL_LOGS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"},
	}
	for _, tt := range tests {
		_, err := TracingConfigFromEnv(envOf(tt.env))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Variable != tt.variable {
			t.Errorf("env %v: got %v, want a ConfigError for %s", tt.env, err, tt.variable)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.variable) || !strings.Contains(msg, "use ") && !strings.Contains(msg, "set it too") && !strings.Contains(msg, "not a valid") {
			t.Errorf("env %v: got %q, want the variable and what is valid", tt.env, msg)
		}
		if strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("env %v: got %q, want one error (a generic variable is reported once)", tt.env, err)
		}
	}
}

// TestSignalVariablesAllAtOnce: bad values of several signals are reported together,
// and a bad generic variable once, not once per signal.
func TestSignalVariablesAllAtOnce(t *testing.T) {
	_, err := TracingConfigFromEnv(envOf(map[string]string{
		"OTEL_METRICS_EXPORTER":       "statsd",
		"OTEL_LOGS_EXPORTER":          "syslog",
		"OTEL_METRIC_EXPORT_INTERVAL": "soon",
		"OTEL_EXPORTER_OTLP_TIMEOUT":  "forever",
	}))
	if err == nil {
		t.Fatal("got nil, want errors")
	}
	msg := err.Error()
	for _, v := range []string{"OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER", "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_EXPORTER_OTLP_TIMEOUT"} {
		if !strings.Contains(msg, v+"=") {
			t.Errorf("got %q, want %s named", msg, v)
		}
	}
	if n := strings.Count(msg, "OTEL_EXPORTER_OTLP_TIMEOUT="); n != 1 {
		t.Errorf("got OTEL_EXPORTER_OTLP_TIMEOUT reported %d times, want once:\n%s", n, msg)
	}
}

// TestSignalVariablesGood: each good value takes effect in the configuration that
// NewSignalExport and the otelexport package build from.
func TestSignalVariablesGood(t *testing.T) {
	ptr := func(n int) *int { return &n }
	tests := []struct {
		name string
		env  map[string]string
		got  func(TracingConfig) any
		want any
	}{
		{"metrics default", nil, func(c TracingConfig) any { return [2]any{ServesMetrics(c), len(PushedMetrics(c))} }, [2]any{true, 0}},
		{"metrics none", map[string]string{"OTEL_METRICS_EXPORTER": "none"}, func(c TracingConfig) any { return ServesMetrics(c) }, false},
		{"metrics otlp only", map[string]string{"OTEL_METRICS_EXPORTER": "otlp"}, func(c TracingConfig) any { return [2]any{ServesMetrics(c), PushedMetrics(c)} }, [2]any{false, []string{"otlp"}}},
		{"metrics list", map[string]string{"OTEL_METRICS_EXPORTER": " Prometheus , OTLP,console"}, func(c TracingConfig) any { return c.Metrics.Exporters }, []string{"prometheus", "otlp", "console"}},
		{"metrics endpoint from generic", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, func(c TracingConfig) any { return c.Metrics.OTLP.Endpoint }, "http://c:4318/v1/metrics"},
		{"metrics endpoint grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, func(c TracingConfig) any { return c.Metrics.OTLP.Endpoint + " " + c.Metrics.OTLP.Protocol }, "http://c:4317 grpc"},
		{"metrics endpoint specific wins", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://m:443/push"}, func(c TracingConfig) any { return c.Metrics.OTLP.Endpoint }, "https://m:443/push"},
		{"metrics protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf"}, func(c TracingConfig) any { return c.Metrics.OTLP.Protocol + " " + c.Protocol }, "http/protobuf grpc"},
		{"metrics headers", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_METRICS_HEADERS": "api-key=s%20ecret"}, func(c TracingConfig) any { return c.Metrics.OTLP.Headers }, map[string]string{"api-key": "s ecret"}},
		{"metrics timeout", map[string]string{"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "2500"}, func(c TracingConfig) any { return c.Metrics.OTLP.Timeout }, 2500 * time.Millisecond},
		{"metrics compression", map[string]string{"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "GZIP"}, func(c TracingConfig) any { return c.Metrics.OTLP.Compression }, "gzip"},
		{"metrics interval", map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "1500"}, func(c TracingConfig) any { return c.Metrics.Interval }, 1500 * time.Millisecond},
		{"metrics export timeout", map[string]string{"OTEL_METRIC_EXPORT_TIMEOUT": "700"}, func(c TracingConfig) any { return c.Metrics.Timeout }, 700 * time.Millisecond},
		{"logs default", nil, func(c TracingConfig) any { return len(c.Logs.Exporters) }, 0},
		{"logs list", map[string]string{"OTEL_LOGS_EXPORTER": "otlp,console,otlp"}, func(c TracingConfig) any { return c.Logs.Exporters }, []string{"otlp", "console"}},
		{"logs endpoint from generic", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, func(c TracingConfig) any { return c.Logs.OTLP.Endpoint }, "http://c:4318/v1/logs"},
		{"logs endpoint specific", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://l:4318/logs"}, func(c TracingConfig) any { return c.Logs.OTLP.Endpoint }, "http://l:4318/logs"},
		{"logs protocol", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"}, func(c TracingConfig) any { return c.Logs.OTLP.Protocol }, "grpc"},
		{"logs headers", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-tenant=7"}, func(c TracingConfig) any { return c.Logs.OTLP.Headers }, map[string]string{"x-tenant": "7"}},
		{"logs timeout", map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "900"}, func(c TracingConfig) any { return c.Logs.OTLP.Timeout }, 900 * time.Millisecond},
		{"logs compression", map[string]string{"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip"}, func(c TracingConfig) any { return c.Logs.OTLP.Compression }, "gzip"},
		{"logs batch", map[string]string{"OTEL_BLRP_SCHEDULE_DELAY": "200", "OTEL_BLRP_EXPORT_TIMEOUT": "3000", "OTEL_BLRP_MAX_QUEUE_SIZE": "64", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "16"},
			func(c TracingConfig) any { return c.Logs.Batch }, BatchConfig{ScheduleDelay: 200 * time.Millisecond, ExportTimeout: 3 * time.Second, MaxQueueSize: 64, MaxExportBatchSize: 16}},
		{"logs limits", map[string]string{"OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64", "OTEL_ATTRIBUTE_COUNT_LIMIT": "9"},
			func(c TracingConfig) any { return [2]int{*c.Logs.AttributeValueLength, *c.Logs.AttributeCount} }, [2]int{64, 9}},
		{"logs limit specific wins", map[string]string{"OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "3", "OTEL_ATTRIBUTE_COUNT_LIMIT": "9"},
			func(c TracingConfig) any { return c.Logs.AttributeCount }, ptr(3)},
	}
	for _, tt := range tests {
		c, err := TracingConfigFromEnv(envOf(tt.env))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, got, tt.want)
		}
	}
}

// TestSignalVariablesIgnoredAreListed: settings of a signal that is not exported over
// OTLP change nothing and are listed for the service to log; those of an exported
// signal are not.
func TestSignalVariablesIgnoredAreListed(t *testing.T) {
	ignored := func(env map[string]string) map[string]bool {
		c, err := TracingConfigFromEnv(envOf(env))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, v := range c.Ignored {
			m[v.Variable] = true
		}
		return m
	}
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318/v1/metrics",
		"OTEL_METRIC_EXPORT_INTERVAL":         "1000",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS":     "a=b",
		"OTEL_BLRP_MAX_QUEUE_SIZE":            "10",
	}
	got := ignored(env)
	for v := range env {
		if !got[v] {
			t.Errorf("got ignored %v, want %s (its signal does not export over OTLP)", got, v)
		}
	}
	env["OTEL_METRICS_EXPORTER"] = "otlp"
	env["OTEL_LOGS_EXPORTER"] = "otlp"
	if got := ignored(env); len(got) != 0 {
		t.Errorf("got ignored %v, want none: both signals export over OTLP", got)
	}
}

// TestSignalConfigPrintsNoSecret: printing the metrics or logs configuration, however,
// shows neither header values nor the endpoint's password.
func TestSignalConfigPrintsNoSecret(t *testing.T) {
	c, err := TracingConfigFromEnv(envOf(map[string]string{
		"OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:hunter2@collector:4318",
		"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20s3cr3t",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c.Metrics, c.Logs, c.Metrics.OTLP, c} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, "s3cr3t") || strings.Contains(out, "hunter2") {
				t.Errorf("%s of %T prints a secret: %s", format, v, out)
			}
		}
	}
}
