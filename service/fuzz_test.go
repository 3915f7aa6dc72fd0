package service_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/service"
)

// fuzzConfig is a team config with one field of each kind Load handles: numbers,
// lists, maps, durations, a required field, secrets (tagged, and by name) and URLs.
type fuzzConfig struct {
	service.Config
	APIToken    string            `env:"FUZZ_API_TOKEN"`
	PIN         int               `env:"FUZZ_PIN" secret:"true"`
	Keys        []string          `env:"FUZZ_KEYS" secret:"true"`
	DBPassword  string            `env:"FUZZ_DB_PASSWORD"`
	DatabaseURL string            `env:"FUZZ_DATABASE_URL"`
	Mirrors     []string          `env:"FUZZ_MIRRORS"`
	Count       int               `env:"FUZZ_COUNT"`
	Ratio       float64           `env:"FUZZ_RATIO"`
	Flags       []bool            `env:"FUZZ_FLAGS"`
	Labels      map[string]string `env:"FUZZ_LABELS"`
	Size        uint16            `env:"FUZZ_SIZE"`
	Poll        time.Duration     `env:"FUZZ_POLL"`
	Region      string            `env:"FUZZ_REGION,required"`
	Nested      struct {
		Timeout time.Duration `env:"TIMEOUT"`
		Secret  string        `env:"SECRET"`
	} `envPrefix:"FUZZ_NESTED_"`
}

// Validate echoes values back in its errors, as a careless team's would: Load must
// still keep secrets and URL passwords out of what it reports.
func (c *fuzzConfig) Validate() error {
	var errs []error
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") {
		errs = append(errs, service.NewProblem("FUZZ_DATABASE_URL", c.DatabaseURL, "must be a postgres:// URL"))
		errs = append(errs, fmt.Errorf("cannot reach %s", c.DatabaseURL))
	}
	if c.APIToken != "" && len(c.APIToken) < 8 {
		errs = append(errs, fmt.Errorf("token %q is too short", c.APIToken))
	}
	return errors.Join(errs...)
}

// fuzzMarker starts every secret value and URL password the fuzzer's input becomes; no
// error and no shown setting may hold it.
const fuzzMarker = "Zq7SECRETq7Z"

// fuzzKeys are the variables a line of fuzz input may set: every setting of
// fuzzConfig, and the OTEL_* variables Paved reads, refuses or ignores.
func fuzzKeys() []string {
	keys := []string{
		"OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_EXPORTER",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_TIMEOUT",
		"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_PROPAGATORS",
		"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
		"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT",
		"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT",
		"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
		"OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_GO_X_OBSERVABILITY",
		"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	}
	for _, f := range service.Fields(&fuzzConfig{}) {
		keys = append(keys, f.Key)
	}
	// The metrics and logs export's (#16), last so the seeds keep their keys.
	return append(keys,
		"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_INSECURE", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
		"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_BLRP_MAX_QUEUE_SIZE",
		"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT")
}

// isListKey tells the comma-separated list variables among the URL ones.
func isListKey(k string) bool { return k == "ETCD_ENDPOINTS" || k == "FUZZ_MIRRORS" }

// isURLKey tells the variables whose fuzz value is made into a URL with a password.
func isURLKey(k string) bool {
	return strings.HasSuffix(k, "_URL") || strings.HasSuffix(k, "_ENDPOINT") || strings.HasSuffix(k, "_ENDPOINTS") || k == "FUZZ_MIRRORS"
}

// FuzzLoadConfig feeds random environments to Load: each line of the input sets one
// variable, its first byte choosing which, the rest its value. Load must neither panic
// nor hang, and no error, and no setting /config would show, may hold a secret's value
// or a URL's password. CI runs it for 30s:
//
//	go test -run '^$' -fuzz '^FuzzLoadConfig$' -fuzztime 30s ./service/
func FuzzLoadConfig(f *testing.F) {
	for _, seed := range []string{
		"",
		"\x00prod\n\x01:0",
		"\x20https://catalog:8080\n\x21short",
		"\x10-5\n\x11x\n\x12yes",
		"\x05http://collector:4318\n\x07api-key=abc,bad key=x",
		"\x50,,\n\x51a=b,c\n\x52true,maybe",
		"\x60%zz\n\x61ftp://host/\n\x62host:2379,http://[::1",
	} {
		f.Add(seed)
	}
	keys := fuzzKeys()
	secret := map[string]bool{}
	for _, fd := range service.Fields(&fuzzConfig{}) {
		secret[fd.Key] = fd.Secret
	}
	f.Fuzz(func(t *testing.T, input string) {
		env := map[string]string{}
		for _, line := range strings.Split(input, "\n") {
			if line == "" {
				continue
			}
			k := keys[int(line[0])%len(keys)]
			v := strings.ReplaceAll(line[1:], fuzzMarker, "")
			switch {
			case secret[k] || service.IsSecretName(k):
				v = fuzzMarker + v
			case isURLKey(k) && len(v) > 0 && v[0]%2 == 1:
				// scheme://user:MARKER<rest>@host, the rest as the fuzzer likes it. In a
				// list the separator cannot be part of a password: caarlos0/env splits
				// there, and the pieces are URLs of their own, with no password.
				rest := v[1:]
				if isListKey(k) {
					rest = strings.ReplaceAll(rest, ",", "")
				}
				v = "https://user:" + fuzzMarker + rest + "@host:8080"
			}
			env[k] = v
		}
		type result struct {
			shown string
			err   error
		}
		done := make(chan result, 1)
		go func() {
			cfg, err := service.Load[fuzzConfig](service.WithEnviron(env))
			var shown strings.Builder
			for k, v := range service.Settings(&cfg) {
				shown.WriteString(k + "=" + v + "\n")
			}
			done <- result{shown.String(), err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Load did not return within 10s for env %q", env)
		}
		if r.err != nil && strings.Contains(r.err.Error(), fuzzMarker) {
			t.Errorf("error shows a secret or a URL password for env %q:\n%v", env, r.err)
		}
		if strings.Contains(r.shown, fuzzMarker) {
			t.Errorf("settings show a secret or a URL password for env %q:\n%s", env, r.shown)
		}
		var ce *service.ConfigError
		if r.err != nil && !errors.As(r.err, &ce) {
			t.Errorf("got %T (%v), want a *service.ConfigError", r.err, r.err)
		}
	})
}
