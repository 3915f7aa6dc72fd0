package telemetry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestSDKVariablesAreValidated covers the OTEL_* variables the OpenTelemetry SDK would
// read by itself (batch span processor, span limits), the insecure flags, and the
// variables of signals Paved does not export: each bad value is a *ConfigError naming
// the variable.
func TestSDKVariablesAreValidated(t *testing.T) {
	tests := []struct {
		env      map[string]string
		variable string
	}{
		{map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-5"}, "OTEL_BSP_MAX_QUEUE_SIZE"},
		{map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "0"}, "OTEL_BSP_MAX_QUEUE_SIZE"},
		{map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "lots"}, "OTEL_BSP_MAX_QUEUE_SIZE"},
		{map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "-1"}, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"},
		{map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "200"}, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"},
		{map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "5s"}, "OTEL_BSP_SCHEDULE_DELAY"},
		{map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "0"}, "OTEL_BSP_SCHEDULE_DELAY"},
		{map[string]string{"OTEL_BSP_EXPORT_TIMEOUT": "-30000"}, "OTEL_BSP_EXPORT_TIMEOUT"},
		{map[string]string{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-1"}, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"},
		{map[string]string{"OTEL_SPAN_EVENT_COUNT_LIMIT": "many"}, "OTEL_SPAN_EVENT_COUNT_LIMIT"},
		{map[string]string{"OTEL_SPAN_LINK_COUNT_LIMIT": "1.5"}, "OTEL_SPAN_LINK_COUNT_LIMIT"},
		{map[string]string{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "-3"}, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT"},
		{map[string]string{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "x"}, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"},
		{map[string]string{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-10"}, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT"},
		{map[string]string{"OTEL_ATTRIBUTE_COUNT_LIMIT": "-1"}, "OTEL_ATTRIBUTE_COUNT_LIMIT"},
		// The generic limit is checked even when the span one overrides it.
		{map[string]string{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "big", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "10"}, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_INSECURE": "yes"}, "OTEL_EXPORTER_OTLP_INSECURE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_INSECURE": "1"}, "OTEL_EXPORTER_OTLP_TRACES_INSECURE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_INSECURE": "maybe", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true"}, "OTEL_EXPORTER_OTLP_INSECURE"},
		// Insecure must agree with the endpoint's scheme, which decides.
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318", "OTEL_EXPORTER_OTLP_INSECURE": "true"}, "OTEL_EXPORTER_OTLP_INSECURE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "false"}, "OTEL_EXPORTER_OTLP_TRACES_INSECURE"},
		{map[string]string{"OTEL_EXPORTER_PROMETHEUS_PORT": "9464"}, "OTEL_EXPORTER_PROMETHEUS_PORT"},
		{map[string]string{"OTEL_CONFIG_FILE": "/etc/otel.yaml"}, "OTEL_CONFIG_FILE"},
		{map[string]string{"OTEL_GO_X_OBSERVABILITY": "on"}, "OTEL_GO_X_OBSERVABILITY"},
	}
	for _, tt := range tests {
		_, err := TracingConfigFromEnv(envOf(tt.env))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Variable != tt.variable {
			t.Errorf("env %v: got %v, want a ConfigError for %s", tt.env, err, tt.variable)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.variable) || !strings.Contains(msg, "use ") {
			t.Errorf("env %v: got %q, want the variable and what is valid", tt.env, msg)
		}
	}
}

func TestSDKVariablesValid(t *testing.T) {
	c, err := TracingConfigFromEnv(envOf(map[string]string{
		"OTEL_BSP_MAX_QUEUE_SIZE":                "100",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE":         "50",
		"OTEL_BSP_SCHEDULE_DELAY":                "250",
		"OTEL_BSP_EXPORT_TIMEOUT":                "1000",
		"OTEL_ATTRIBUTE_COUNT_LIMIT":             "7",
		"OTEL_SPAN_EVENT_COUNT_LIMIT":            "0",
		"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT":      "20",
		"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "10",
		"OTEL_EXPORTER_OTLP_ENDPOINT":            "https://collector:4318",
		"OTEL_EXPORTER_OTLP_INSECURE":            "false",
		"OTEL_METRICS_EXPORTER":                  "prometheus",
		"OTEL_LOGS_EXPORTER":                     "none",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT":    "http://collector:4318/v1/metrics",
		"OTEL_BLRP_MAX_QUEUE_SIZE":               "100",
	}))
	if err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	b := c.Batch
	if b.MaxQueueSize != 100 || b.MaxExportBatchSize != 50 || b.ScheduleDelay.Milliseconds() != 250 || b.ExportTimeout.Milliseconds() != 1000 {
		t.Errorf("got batch %+v, want 100, 50, 250ms, 1s", b)
	}
	l := c.SpanLimits
	switch {
	case l.AttributeCount == nil || *l.AttributeCount != 7:
		t.Errorf("got attribute count %v, want 7 (from OTEL_ATTRIBUTE_COUNT_LIMIT)", l.AttributeCount)
	case l.EventCount == nil || *l.EventCount != 0:
		t.Errorf("got event count %v, want 0", l.EventCount)
	case l.AttributeValueLength == nil || *l.AttributeValueLength != 10:
		t.Errorf("got value length %v, want 10 (the span variable wins)", l.AttributeValueLength)
	case l.LinkCount != nil:
		t.Errorf("got link count %v, want nil (unset)", *l.LinkCount)
	}
	ignored := map[string]bool{}
	for _, v := range c.Ignored {
		ignored[v.Variable] = true
		if v.Reason == "" {
			t.Errorf("got no reason for ignoring %s", v.Variable)
		}
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_BLRP_MAX_QUEUE_SIZE"} {
		if !ignored[v] {
			t.Errorf("got ignored %v, want %s among them", c.Ignored, v)
		}
	}
}

// TestNewTracingNeverReadsSDKVariables proves the SDK does not read OTEL_BSP_* or the
// span limits from the process behind TracingConfig's back: OTEL_BSP_MAX_QUEUE_SIZE=-5
// used to panic in the SDK's batch processor (makeslice: cap out of range).
func TestNewTracingNeverReadsSDKVariables(t *testing.T) {
	t.Setenv("OTEL_BSP_MAX_QUEUE_SIZE", "-5")
	t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "-5")
	t.Setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1")
	rec := tracetest.NewSpanRecorder()
	two := 2
	tr, err := NewTracing(context.Background(), TracingConfig{
		Exporters:  []string{ExporterConsole},
		SpanLimits: SpanLimits{AttributeCount: &two},
	}, ResourceInfo{ServiceName: "x"}, WithSpanProcessor(rec),
		// The console slot filled with an in-memory exporter: the test needs the batch
		// processor an exporter gets, not the console output.
		WithExporter(Exporter{Name: ExporterConsole, New: func(context.Context, ExporterSettings) (sdktrace.SpanExporter, error) {
			return tracetest.NewInMemoryExporter(), nil
		}}))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("t").Start(context.Background(), "s")
	span.SetAttributes(attribute.Int("a", 1), attribute.Int("b", 2), attribute.Int("c", 3))
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.Ended()); got != 1 {
		t.Fatalf("got %d spans, want 1", got)
	}
	if got := len(rec.Ended()[0].Attributes()); got != 2 {
		t.Errorf("got %d attributes, want 2 (TracingConfig's limit, not the environment's 1)", got)
	}
	// A processor built directly is not at the environment's mercy either.
	p := NewBatchSpanProcessor(tracetest.NewInMemoryExporter())
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestEndpointPasswordNeverShown proves a password in an OTLP endpoint stays out of
// errors and of the config's printed form.
func TestEndpointPasswordNeverShown(t *testing.T) {
	const pw = "hunter2-otlp"
	_, err := TracingConfigFromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://user:" + pw + "@collector:4318"}))
	if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Errorf("got %v, want an error naming the variable without the password", err)
	}
	c, err := TracingConfigFromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://user:" + pw + "@collector:4318/v1/traces"}))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, pw) {
		t.Errorf("got %q, want the password redacted", s)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"http://catalog:8080", "http://catalog:8080"},
		{"https://user:pw@host/path?q=1", "https://user:xxxxx@host/path?q=1"},
		{"https://token@host", "https://xxxxx@host"},
		{"https://user:p w@host", "https://xxxxx@host"},                // not a valid URL
		{"https://user:a/b@host", "https://xxxxx@host"},                // '/' in the password
		{"http://u:p@a:2379,http://u:q@b:2379", "http://xxxxx@b:2379"}, // a list: all of it
		{"user:pw@host:2379", "user:pw@host:2379"},                     // no scheme: not a URL
		{"mailto:someone@example.com", "mailto:someone@example.com"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOverriddenGenericVariablesAreValidated: a generic OTLP variable that the traces
// one overrides still applies to the other signals, so a bad value is reported rather
// than ignored.
func TestOverriddenGenericVariablesAreValidated(t *testing.T) {
	tests := []struct {
		env      map[string]string
		variable string
	}{
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "100"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "thrift", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "brotli", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip"}, "OTEL_EXPORTER_OTLP_COMPRESSION"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "no-equals", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=b"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/nonexistent/other.pem"}, "OTEL_EXPORTER_OTLP_CERTIFICATE"},
	}
	for _, tt := range tests {
		_, err := TracingConfigFromEnv(envOf(tt.env))
		found := false
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				var ce *ConfigError
				if errors.As(e, &ce) && ce.Variable == tt.variable {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("env %v: got %v, want a ConfigError for %s", tt.env, err, tt.variable)
		}
	}
}

// TestCertificateVariableNeverHangs: a certificate variable naming a FIFO (or a device
// such as /dev/zero) is refused at once; reading it used to block Load forever.
func TestCertificateVariableNeverHangs(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_CERTIFICATE": fifo},
		{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": fifo, "OTEL_EXPORTER_OTLP_CLIENT_KEY": fifo},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := TracingConfigFromEnv(envOf(env))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "regular file") {
				t.Errorf("env %v: got %v, want an error saying it is not a regular file", env, err)
			}
		case <-time.After(5 * time.Second):
			// Unblock the reader so that goleak does not see it.
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatalf("env %v: TracingConfigFromEnv still reading the FIFO after 5s", env)
		}
	}
}
