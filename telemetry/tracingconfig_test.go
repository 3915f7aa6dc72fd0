package telemetry

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestTracingConfigFromEnvDefaults(t *testing.T) {
	c, err := TracingConfigFromEnv(envOf(nil))
	if err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if c.Disabled || len(c.Exporters) != 0 || c.Endpoint != "" || c.Sampler != "" || c.SamplerArg != 1 || c.Propagators != nil {
		t.Errorf("got %v, want no exporter, default sampler with arg 1 and default propagators", c)
	}
}

func TestTracingConfigFromEnvValid(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(TracingConfig) string // returns "" when c is right
	}{
		{"endpoint implies otlp and appends /v1/traces",
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"},
			func(c TracingConfig) string {
				return check(c.Exporters, []string{"otlp"}) + check(c.Endpoint, "http://127.0.0.1:4318/v1/traces")
			}},
		{"traces endpoint wins and is used as is",
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b:443/custom"},
			func(c TracingConfig) string { return check(c.Endpoint, "https://b:443/custom") }},
		{"grpc endpoint keeps its URL",
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			func(c TracingConfig) string { return check(c.Endpoint, "http://c:4317") + check(c.Protocol, "grpc") }},
		{"explicit none beats endpoint",
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"},
			func(c TracingConfig) string { return check(len(c.Exporters), 0) }},
		{"console and otlp",
			map[string]string{"OTEL_TRACES_EXPORTER": "console, OTLP,console"},
			func(c TracingConfig) string { return check(c.Exporters, []string{"console", "otlp"}) }},
		{"disabled any case",
			map[string]string{"OTEL_SDK_DISABLED": "TRUE"},
			func(c TracingConfig) string { return check(c.Disabled, true) }},
		{"empty values count as unset",
			map[string]string{"OTEL_SDK_DISABLED": "", "OTEL_TRACES_SAMPLER": "", "OTEL_EXPORTER_OTLP_TIMEOUT": ""},
			func(c TracingConfig) string { return check(c.Disabled, false) + check(c.Timeout, time.Duration(0)) }},
		{"resource attributes decoded in order",
			map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=pay%20ments, region=eu-1", "OTEL_SERVICE_NAME": "orders"},
			func(c TracingConfig) string {
				return check(c.ResourceAttributes, []attribute.KeyValue{attribute.String("team", "pay ments"), attribute.String("region", "eu-1")}) +
					check(c.ServiceName, "orders")
			}},
		{"headers decoded, traces variant wins",
			map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Authorization=Bearer%20x,api-key=k"},
			func(c TracingConfig) string {
				return check(c.Headers, map[string]string{"Authorization": "Bearer x", "api-key": "k"})
			}},
		{"timeout and compression",
			map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"},
			func(c TracingConfig) string {
				return check(c.Timeout, 2500*time.Millisecond) + check(c.Compression, "gzip")
			}},
		{"ratio sampler",
			map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
			func(c TracingConfig) string {
				return check(c.Sampler, "parentbased_traceidratio") + check(c.SamplerArg, 0.25)
			}},
		{"sampler arg ignored by always_on",
			map[string]string{"OTEL_TRACES_SAMPLER": "always_on", "OTEL_TRACES_SAMPLER_ARG": "junk"},
			func(c TracingConfig) string { return check(c.SamplerArg, 1.0) }},
		{"propagators none",
			map[string]string{"OTEL_PROPAGATORS": "none"},
			func(c TracingConfig) string { return check(c.Propagators, []string{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := TracingConfigFromEnv(envOf(tt.env))
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if msg := tt.want(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func check[T any](got, want T) string {
	if reflect.DeepEqual(got, want) {
		return ""
	}
	return fmt.Sprintf("got %v, want %v; ", got, want)
}

// TestTracingConfigFromEnvReportsEveryProblem proves that all bad variables are reported
// at once, each naming the variable, its value and what is valid.
func TestTracingConfigFromEnvReportsEveryProblem(t *testing.T) {
	env := map[string]string{
		"OTEL_SDK_DISABLED":              "yes",
		"OTEL_RESOURCE_ATTRIBUTES":       "team",
		"OTEL_TRACES_EXPORTER":           "zipkin",
		"OTEL_EXPORTER_OTLP_ENDPOINT":    "localhost:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL":    "thrift",
		"OTEL_EXPORTER_OTLP_TIMEOUT":     "10s",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "brotli",
		"OTEL_TRACES_SAMPLER":            "sometimes",
		"OTEL_PROPAGATORS":               "b3",
	}
	_, err := TracingConfigFromEnv(envOf(env))
	if err == nil {
		t.Fatal("got nil error, want one per bad variable")
	}
	wants := map[string]string{
		"OTEL_SDK_DISABLED":              "true or false",
		"OTEL_RESOURCE_ATTRIBUTES":       "key1=value1",
		"OTEL_TRACES_EXPORTER":           "otlp, console or none",
		"OTEL_EXPORTER_OTLP_ENDPOINT":    "absolute http or https URL",
		"OTEL_EXPORTER_OTLP_PROTOCOL":    "http/protobuf, http/json or grpc",
		"OTEL_EXPORTER_OTLP_TIMEOUT":     "milliseconds",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip or none",
		"OTEL_TRACES_SAMPLER":            "parentbased_traceidratio",
		"OTEL_PROPAGATORS":               "tracecontext, baggage or none",
	}
	unwrapped, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("got %T, want a joined error", err)
	}
	if got := len(unwrapped.Unwrap()); got != len(wants) {
		t.Errorf("got %d errors, want %d: %v", got, len(wants), err)
	}
	for _, e := range unwrapped.Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("got %T, want *ConfigError", e)
		}
		valid, ok := wants[ce.Variable]
		if !ok {
			t.Errorf("got error for %s, want none", ce.Variable)
			continue
		}
		delete(wants, ce.Variable)
		msg := e.Error()
		if !strings.Contains(msg, ce.Variable) || !strings.Contains(msg, env[ce.Variable]) || !strings.Contains(msg, valid) {
			t.Errorf("got %q, want the variable, its value %q and %q", msg, env[ce.Variable], valid)
		}
	}
	for v := range wants {
		t.Errorf("got no error for %s, want one", v)
	}
}

func TestTracingConfigFromEnvOtherErrors(t *testing.T) {
	tests := []struct {
		env      map[string]string
		variable string
	}{
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG"},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none,otlp"}, "OTEL_TRACES_EXPORTER"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://x/"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "-5"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a=%zz"}, "OTEL_RESOURCE_ATTRIBUTES"},
		{map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}, "OTEL_EXPORTER_OTLP_CERTIFICATE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_KEY": "/nonexistent/key.pem"}, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"},
	}
	for _, tt := range tests {
		_, err := TracingConfigFromEnv(envOf(tt.env))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Variable != tt.variable {
			t.Errorf("env %v: got %v, want a ConfigError for %s", tt.env, err, tt.variable)
		}
	}
}

// TestTracingConfigHeadersNeverLeak proves header values stay out of errors and of the
// config's printed forms.
func TestTracingConfigHeadersNeverLeak(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for _, headers := range []string{
		"Authorization Bearer " + secret,          // no '='
		"api-key=" + secret + ",=" + secret,       // empty key
		"bad key=" + secret,                       // invalid header name
		"api-key=%zz" + secret,                    // bad percent-encoding
		"api-key=" + secret + ",Bearer " + secret, // second entry bad
	} {
		_, err := TracingConfigFromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": headers}))
		if err == nil {
			t.Errorf("headers %q: got nil error, want one", headers)
			continue
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_HEADERS") {
			t.Errorf("got %q, want the variable named and the secret withheld", err)
		}
	}
	c, err := TracingConfigFromEnv(envOf(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=" + secret}))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, secret) {
			t.Errorf("got %q, want the header value redacted", s)
		}
	}
}

func TestNeverSamplesRoot(t *testing.T) {
	tests := []struct {
		cfg  TracingConfig
		want bool
	}{
		{TracingConfig{}, false}, // parentbased_always_on
		{TracingConfig{Sampler: SamplerAlwaysOn}, false},
		{TracingConfig{Sampler: SamplerParentBasedAlwaysOn}, false},
		{TracingConfig{Sampler: SamplerAlwaysOff}, true},
		{TracingConfig{Sampler: SamplerParentBasedAlwaysOff}, true},
		{TracingConfig{Sampler: SamplerTraceIDRatio, SamplerArg: 0}, true},
		{TracingConfig{Sampler: SamplerParentBasedTraceIDRatio, SamplerArg: 0}, true},
		{TracingConfig{Sampler: SamplerTraceIDRatio, SamplerArg: 0.01}, false},
		{TracingConfig{Sampler: SamplerParentBasedTraceIDRatio, SamplerArg: 1}, false},
		{TracingConfig{Disabled: true}, true},
	}
	for _, tt := range tests {
		if got := NeverSamplesRoot(tt.cfg); got != tt.want {
			t.Errorf("NeverSamplesRoot(%s %v disabled %v): got %v, want %v", tt.cfg.Sampler, tt.cfg.SamplerArg, tt.cfg.Disabled, got, tt.want)
		}
	}
}
