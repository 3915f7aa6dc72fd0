package service_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
)

type teamConfig struct {
	service.Config
	Greeting string        `env:"GREETING" envDefault:"Hello"`
	DBURL    string        `env:"DB_URL,required"`
	Password string        `env:"DB_PASSWORD"`
	APIKey   string        `env:"UPSTREAM_KEY" secret:"true"`
	Poll     time.Duration `env:"POLL_INTERVAL" envDefault:"10s"`
	Upstream struct {
		Timeout time.Duration `env:"TIMEOUT" envDefault:"2s"`
	} `envPrefix:"UPSTREAM_"`
}

func (c *teamConfig) Validate() error {
	if c.Poll > time.Hour {
		return service.NewProblem("POLL_INTERVAL", c.Poll.String(), "must be at most 1h")
	}
	return nil
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := service.Load[teamConfig](service.WithEnviron(map[string]string{"DB_URL": "postgres://db"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"HTTPAddr", cfg.HTTPAddr, ":8080"},
		{"AdminAddr", cfg.AdminAddr, ":9090"},
		{"Env", cfg.Env, "development"},
		{"LogFormat", cfg.LogFormat, "json"},
		{"ShutdownTimeout", cfg.ShutdownTimeout, 15 * time.Second},
		{"DrainDelay", cfg.DrainDelay, 5 * time.Second},
		{"ComplianceMode", cfg.ComplianceMode, "report"},
		{"Registry", cfg.EffectiveRegistry(), "none"},
		{"Greeting", cfg.Greeting, "Hello"},
		{"Upstream.Timeout", cfg.Upstream.Timeout, 2 * time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadReportsEveryProblemAndNoSecret(t *testing.T) {
	const canary = "canary-s3cr3t-value"
	env := map[string]string{
		"SERVICE_ENV":         "prod",
		"HTTP_ADDR":           "8080",
		"ADMIN_ADDR":          "127.0.0.1:99999",
		"LOG_LEVEL":           "loud",
		"LOG_FORMAT":          "xml",
		"SHUTDOWN_TIMEOUT":    "10",
		"DRAIN_DELAY":         "-1s",
		"REGISTRY":            "zookeeper",
		"CATALOG_URL":         "ftp://catalog",
		"CATALOG_TOKEN":       canary,
		"DB_PASSWORD":         canary,
		"UPSTREAM_KEY":        canary,
		"PPROF_ENABLED":       "yes please",
		"POLL_INTERVAL":       "2h",
		"UPSTREAM_TIMEOUT":    "soon",
		"COMPLIANCE_MODE":     "strict",
		"HTTP_MAX_BODY_BYTES": "0",
	}
	_, err := service.Load[teamConfig](service.WithEnviron(env))
	var ce *service.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	msg := err.Error()
	if strings.Contains(msg, canary) {
		t.Errorf("the error shows a secret value:\n%s", msg)
	}
	for _, v := range []string{"SERVICE_ENV", "HTTP_ADDR", "ADMIN_ADDR", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT",
		"DRAIN_DELAY", "REGISTRY", "CATALOG_URL", "PPROF_ENABLED", "POLL_INTERVAL", "UPSTREAM_TIMEOUT", "DB_URL",
		"COMPLIANCE_MODE", "HTTP_MAX_BODY_BYTES"} {
		found := false
		for _, p := range ce.Problems {
			if p.Var == v {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem reported for %s in:\n%s", v, msg)
		}
	}
	// Each problem says what would be valid.
	for _, want := range []string{"development, staging, production", "such as 500ms, 30s or 2m", "true or false", "required"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
}

func TestLoadSecretParseErrorIsRedacted(t *testing.T) {
	type cfg struct {
		service.Config
		Token int `env:"WEBHOOK_TOKEN"`
	}
	_, err := service.Load[cfg](service.WithEnviron(map[string]string{"WEBHOOK_TOKEN": "canary-abc"}))
	if err == nil || strings.Contains(err.Error(), "canary-abc") || !strings.Contains(err.Error(), "WEBHOOK_TOKEN") {
		t.Fatalf("got %v, want an error naming WEBHOOK_TOKEN without its value", err)
	}
}

func TestLoadRegistryRules(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantVar string // "" means valid
		wantReg string
	}{
		{map[string]string{"CATALOG_URL": "http://catalog:8080"}, "", "catalog"},
		{map[string]string{"REGISTRY": "catalog"}, "CATALOG_URL", ""},
		{map[string]string{"REGISTRY": "etcd"}, "ETCD_ENDPOINTS", ""},
		{map[string]string{"REGISTRY": "etcd", "ETCD_ENDPOINTS": "http://127.0.0.1:2379,127.0.0.1:2380"}, "", "etcd"},
		{map[string]string{"REGISTRY": "none", "CATALOG_URL": "http://c"}, "", "none"},
		{map[string]string{"REGISTRY_TTL": "1s"}, "REGISTRY_TTL", ""},
		{map[string]string{"HTTP_ADDR": ":9090"}, "ADMIN_ADDR", ""},
	}
	for _, tt := range tests {
		cfg, err := service.Load[service.Config](service.WithEnviron(tt.env))
		if tt.wantVar == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.env, err)
			} else if got := cfg.EffectiveRegistry(); got != tt.wantReg {
				t.Errorf("%v: registry got %q, want %q", tt.env, got, tt.wantReg)
			}
			continue
		}
		var ce *service.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.wantVar) {
			t.Errorf("%v: got %v, want a problem with %s", tt.env, err, tt.wantVar)
		}
	}
}

func TestSettingsRedactSecrets(t *testing.T) {
	cfg, err := service.Load[teamConfig](service.WithEnviron(map[string]string{
		"DB_URL": "postgres://db", "DB_PASSWORD": "pw-canary", "UPSTREAM_KEY": "key-canary", "CATALOG_TOKEN": "tok-canary",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := service.Settings(&cfg)
	for _, k := range []string{"DB_PASSWORD", "UPSTREAM_KEY", "CATALOG_TOKEN"} {
		if s[k] != "[REDACTED]" {
			t.Errorf("%s: got %q, want [REDACTED]", k, s[k])
		}
	}
	if s["DB_URL"] != "postgres://db" || s["UPSTREAM_TIMEOUT"] != "2s" || s["HTTP_ADDR"] != ":8080" {
		t.Errorf("settings missing plain values: %v", s)
	}
}

func TestFieldsDescribeEveryBaseVariable(t *testing.T) {
	for _, f := range service.Fields(&service.Config{}) {
		if f.Desc == "" {
			t.Errorf("%s has no desc tag: docs/configuration.md would have a hole", f.Key)
		}
	}
}

type nestedSettings struct {
	Port int `env:"NESTED_PORT"`
}

func (n nestedSettings) Validate() error {
	if n.Port <= 0 {
		return service.NewProblem("NESTED_PORT", strconv.Itoa(n.Port), "want a positive port")
	}
	return nil
}

type withNested struct {
	service.Config
	Inner struct{ Nested nestedSettings }
}

// A capability's settings nested in the team's struct are validated by Load with the
// rest, without the team's own Validate having to call them.
func TestLoadValidatesNestedSettings(t *testing.T) {
	_, err := service.Load[withNested](service.WithEnviron(map[string]string{"SERVICE_NAME": "x", "NESTED_PORT": "-1"}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != "NESTED_PORT" {
		t.Fatalf("got %v, want one problem for NESTED_PORT", err)
	}
}

// plainNested validates itself with an error that names no variable, as
// resilience.PolicyConfig does.
type plainNested struct {
	Attempts int `env:"ATTEMPTS"`
}

func (n plainNested) Validate() error {
	if n.Attempts < 0 {
		return errors.New("attempts must not be negative")
	}
	return nil
}

// withOwnValidate checks its nested settings itself and names the variable.
type withOwnValidate struct {
	service.Config
	Retry plainNested `envPrefix:"DEP_"`
}

func (c *withOwnValidate) Validate() error {
	if err := c.Retry.Validate(); err != nil {
		return service.NewProblem("DEP_ATTEMPTS", strconv.Itoa(c.Retry.Attempts), err.Error())
	}
	return nil
}

// A team's Validate that already reports a nested struct's problem, naming the
// variable, is not doubled by Load's own pass over nested settings (it was, as
// "config: ..." beside the named one).
func TestLoadReportsNestedProblemOnce(t *testing.T) {
	_, err := service.Load[withOwnValidate](service.WithEnviron(map[string]string{"SERVICE_NAME": "x", "DEP_ATTEMPTS": "-1"}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != "DEP_ATTEMPTS" {
		t.Fatalf("got %v, want one problem for DEP_ATTEMPTS", err)
	}
}

// withPolicy has a group of settings under a prefix, as natsjs.Config's NATS_PUBLISH_
// and a team's dependency policies are.
type withPolicy struct {
	service.Config
	Inventory resilience.PolicyConfig `envPrefix:"INVENTORY_"`
}

// A variable under a group's prefix that is none of its settings is a typo, reported
// with the setting it was probably meant to be, beside every other problem; variables
// outside the prefixes are left alone.
func TestLoadRefusesUnknownVariableUnderAPrefix(t *testing.T) {
	_, err := service.Load[withPolicy](service.WithEnviron(map[string]string{
		"SERVICE_NAME":                   "x",
		"INVENTORY_BREAKER_OPEN_TIMOUT":  "30s", // typo of INVENTORY_BREAKER_OPEN_TIMEOUT
		"INVENTORY_COLOUR":               "blue",
		"INVENTORY_OPEN_TIMEOUT":         "5s", // the BREAKER_ group left out
		"HTTP_ADDR":                      "nonsense",
		"PATH":                           "/usr/bin", // not under a prefix: not ours
		"INVENTORY_BREAKER_OPEN_TIMEOUT": "10s",
	}))
	var ce *service.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError", err)
	}
	got := map[string]string{}
	for _, p := range ce.Problems {
		got[p.Var] = p.Msg
	}
	if len(got) != 4 {
		t.Errorf("got problems %v, want INVENTORY_BREAKER_OPEN_TIMOUT, INVENTORY_OPEN_TIMEOUT, INVENTORY_COLOUR and HTTP_ADDR", ce.Problems)
	}
	if msg := got["INVENTORY_OPEN_TIMEOUT"]; !strings.Contains(msg, "did you mean INVENTORY_BREAKER_OPEN_TIMEOUT?") {
		t.Errorf("INVENTORY_OPEN_TIMEOUT: got %q, want a suggestion of INVENTORY_BREAKER_OPEN_TIMEOUT", msg)
	}
	if msg := got["INVENTORY_BREAKER_OPEN_TIMOUT"]; !strings.Contains(msg, "did you mean INVENTORY_BREAKER_OPEN_TIMEOUT?") {
		t.Errorf("INVENTORY_BREAKER_OPEN_TIMOUT: got %q, want a suggestion of INVENTORY_BREAKER_OPEN_TIMEOUT", msg)
	}
	if msg := got["INVENTORY_COLOUR"]; !strings.Contains(msg, "INVENTORY_") || strings.Contains(msg, "did you mean") {
		t.Errorf("INVENTORY_COLOUR: got %q, want the prefix named and no suggestion", msg)
	}
	if _, err := service.Load[withPolicy](service.WithEnviron(map[string]string{"SERVICE_NAME": "x", "INVENTORY_BREAKER_OPEN_TIMEOUT": "10s", "PATH": "/bin"})); err != nil {
		t.Errorf("known variables only: got %v, want no error", err)
	}
}
