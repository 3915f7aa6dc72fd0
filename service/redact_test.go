package service_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/paved-road/paved/service"
)

// urlConfig has settings that hold URLs, the way a team's config does.
type urlConfig struct {
	service.Config
	DatabaseURL string   `env:"DATABASE_URL" envDefault:"postgres://app:default-pw-9c1@db:5432/app" desc:"Database."`
	Mirrors     []string `env:"MIRRORS" desc:"Mirror URLs."`
	Port        int      `env:"UPSTREAM_PORT" desc:"A port."`
	Upstream    string   `env:"UPSTREAM_URL" desc:"Upstream."`
}

func (c *urlConfig) Validate() error {
	if strings.HasPrefix(c.Upstream, "ftp:") {
		return errors.Join(
			service.NewProblem("UPSTREAM_URL", c.Upstream, "must be http or https"),
			errors.New("upstream "+c.Upstream+" is refused"),
		)
	}
	return nil
}

// TestURLPasswordsNeverShown: a password in any URL setting (the service's own, the
// OTLP endpoints, a team's) stays out of /config's settings, of every configuration
// error and of the generated configuration reference.
func TestURLPasswordsNeverShown(t *testing.T) {
	const pw = "pw-3f9a-canary"
	cfg, err := service.Load[urlConfig](service.WithEnviron(map[string]string{
		"CATALOG_URL":                        "https://user:" + pw + "@catalog:8080",
		"ETCD_ENDPOINTS":                     "http://root:" + pw + "@etcd-1:2379,http://root:" + pw + "@etcd-2:2379",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://otel:" + pw + "@collector:4318/v1/traces",
		"DATABASE_URL":                       "postgres://app:" + pw + "@db:5432/app",
		"MIRRORS":                            "https://" + pw + "@mirror-1,https://m:" + pw + "@mirror-2",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	settings := service.Settings(&cfg)
	for k, v := range settings {
		if strings.Contains(v, pw) {
			t.Errorf("Settings: %s=%q shows the password", k, v)
		}
	}
	if got, want := settings["CATALOG_URL"], "https://user:xxxxx@catalog:8080"; got != want {
		t.Errorf("Settings CATALOG_URL: got %q, want %q", got, want)
	}
	if got, want := settings["ETCD_ENDPOINTS"], "http://root:xxxxx@etcd-1:2379,http://root:xxxxx@etcd-2:2379"; got != want {
		t.Errorf("Settings ETCD_ENDPOINTS: got %q, want %q", got, want)
	}
	if cfg.CatalogURL != "https://user:"+pw+"@catalog:8080" {
		t.Errorf("CatalogURL: got %q, want the real value (only what is shown is redacted)", cfg.CatalogURL)
	}

	_, err = service.Load[urlConfig](service.WithEnviron(map[string]string{
		"CATALOG_URL":                 "ftp://user:" + pw + "@catalog:8080",
		"ETCD_ENDPOINTS":              "ftp://root:" + pw + "@etcd-1:2379",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://otel:" + pw + "@collector:4318",
		"UPSTREAM_PORT":               "http://u:" + pw + "@x:80",
		"UPSTREAM_URL":                "ftp://u:" + pw + "@upstream/a-long-path-that-goes-past-sixty-four-characters-of-value",
	}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Load: got %v, want a *ConfigError", err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Errorf("error shows the password:\n%v", err)
	}
	for _, v := range []string{"CATALOG_URL", "ETCD_ENDPOINTS", "OTEL_EXPORTER_OTLP_ENDPOINT", "UPSTREAM_PORT", "UPSTREAM_URL"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s:\n%v", v, err)
		}
	}

	var ref bytes.Buffer
	if err := service.WriteConfigReference(&ref, &urlConfig{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ref.String(), "default-pw-9c1") {
		t.Errorf("configuration reference shows the default's password:\n%s", ref.String())
	}
}

// TestOTELErrorsReadWell: an OTEL_* problem reads like the others ("must be use true or
// false" was the message), and the SDK's own variables are validated by Load.
func TestOTELErrorsReadWell(t *testing.T) {
	_, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"OTEL_SDK_DISABLED":       "maybe",
		"OTEL_BSP_MAX_QUEUE_SIZE": "-5",
		"OTEL_METRICS_EXPORTER":   "statsd",
	}))
	if err == nil {
		t.Fatal("Load: got nil error, want one per bad variable")
	}
	msg := err.Error()
	if strings.Contains(msg, "must be use") {
		t.Errorf("got %q, want no \"must be use\"", msg)
	}
	for _, want := range []string{
		`OTEL_SDK_DISABLED="maybe": use true or false`,
		`OTEL_BSP_MAX_QUEUE_SIZE="-5": use a whole number`,
		`OTEL_METRICS_EXPORTER="statsd": use prometheus, otlp, console or none`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("got %q, want it to hold %q", msg, want)
		}
	}
}

// TestIgnoredOTELVariablesAreLogged: a variable Paved does not act on is logged, never
// dropped in silence.
func TestIgnoredOTELVariablesAreLogged(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://collector:4318/v1/metrics",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := service.New(service.Info{Name: "svc"}, &cfg, service.WithLogOutput(&logs)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") || !strings.Contains(logs.String(), "/metrics") {
		t.Errorf("got logs %q, want the ignored variable named with the reason", logs.String())
	}
}
