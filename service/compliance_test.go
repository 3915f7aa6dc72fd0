package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/service/profiler"
)

var compliantInfo = service.Info{
	Name: "facts", Version: "1.0.0", Owner: "team-a", Description: "Tests facts.", Tier: 2, Lifecycle: "production",
	Links: service.Links{Repository: "https://git.example.com/facts", Runbook: "https://docs.example.com/rb", OnCall: "https://oncall.example.com/a"},
}

// TestFactsFromRealServices builds real services set up both ways and checks each rule
// the service's own wiring decides.
func TestFactsFromRealServices(t *testing.T) {
	tests := []struct {
		rule   string
		env    map[string]string
		info   func(*service.Info)
		status compliance.Status
		check  bool // register a readiness check
	}{
		{"readiness-check", nil, nil, compliance.StatusPass, true},
		{"readiness-check", nil, nil, compliance.StatusFail, false},
		{"owner-set", nil, nil, compliance.StatusPass, true},
		{"owner-set", nil, func(i *service.Info) { i.Owner = "" }, compliance.StatusFail, true},
		{"tier-set", nil, func(i *service.Info) { i.Tier = 0 }, compliance.StatusFail, true},
		{"lifecycle-set", nil, func(i *service.Info) { i.Lifecycle = "" }, compliance.StatusFail, true},
		{"description-set", nil, func(i *service.Info) { i.Description = "" }, compliance.StatusFail, true},
		{"version-set", map[string]string{"SERVICE_ENV": "production"}, nil, compliance.StatusPass, true},
		{"version-set", map[string]string{"SERVICE_ENV": "production"}, func(i *service.Info) { i.Version = "" }, compliance.StatusFail, true},
		{"metrics-served", nil, nil, compliance.StatusPass, true},
		{"admin-separate", nil, nil, compliance.StatusPass, true},
		{"pprof-off", map[string]string{"SERVICE_ENV": "production"}, nil, compliance.StatusPass, true},
		{"pprof-off", map[string]string{"SERVICE_ENV": "production", "PPROF_ENABLED": "true"}, nil, compliance.StatusFail, true},
		{"shutdown-after-drain", nil, nil, compliance.StatusPass, true},
		{"shutdown-after-drain", map[string]string{"DRAIN_DELAY": "20s", "SHUTDOWN_TIMEOUT": "10s"}, nil, compliance.StatusFail, true},
		{"server-timeouts", nil, nil, compliance.StatusPass, true},
		{"server-timeouts", map[string]string{"HTTP_WRITE_TIMEOUT": "0s"}, nil, compliance.StatusFail, true},
		{"registration-configured", map[string]string{"SERVICE_ENV": "production", "REGISTRY": "catalog", "CATALOG_URL": "http://catalog:8080"}, nil, compliance.StatusPass, true},
		{"registration-configured", map[string]string{"SERVICE_ENV": "production"}, nil, compliance.StatusFail, true},
		{"tracing-exporter", map[string]string{"SERVICE_ENV": "staging", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, nil, compliance.StatusPass, true},
		{"tracing-exporter", map[string]string{"SERVICE_ENV": "staging"}, nil, compliance.StatusFail, true},
		{"runbook-link", nil, nil, compliance.StatusPass, true},
		{"runbook-link", nil, func(i *service.Info) { i.Links.Runbook = "" }, compliance.StatusFail, true},
		{"on-call-link", nil, func(i *service.Info) { i.Links.OnCall = "" }, compliance.StatusFail, true},
		{"repository-link", nil, func(i *service.Info) { i.Links.Repository = "" }, compliance.StatusFail, true},
	}
	for i, tt := range tests {
		name := fmt.Sprintf("%s/%s/%d", tt.rule, tt.status, i)
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0"}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := service.Load[service.Config](service.WithEnviron(env))
			if err != nil {
				t.Fatal(err)
			}
			info := compliantInfo
			if tt.info != nil {
				tt.info(&info)
			}
			opts := []service.Option{service.WithLogOutput(io.Discard), service.WithProfiler(profiler.Register)}
			if cfg.EffectiveRegistry() != service.RegistryNone {
				opts = append(opts, service.WithRegistryBackend((&static.Registry{}).Backend(cfg.EffectiveRegistry())))
			}
			s, err := service.New(info, &cfg, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			if tt.check {
				if err := s.Health().Register(health.Check{Name: "db", Check: func(context.Context) error { return nil }}); err != nil {
					t.Fatal(err)
				}
			}
			rep := compliance.Evaluate(s.Facts(), compliance.DefaultRuleSet())
			res, ok := rep.Result(tt.rule)
			if !ok {
				t.Fatalf("no result for rule %s", tt.rule)
			}
			if res.Status != tt.status {
				t.Errorf("got %s (%s), want %s", res.Status, res.Message, tt.status)
			}
		})
	}
}

func TestComplianceEnforceRefusesToStart(t *testing.T) {
	// The child service has no owner, tier, lifecycle or readiness check.
	c := startChild(t, map[string]string{"COMPLIANCE_MODE": "enforce"}, false)
	if code := c.wait(t, 15*time.Second); code != service.ExitConfig {
		t.Fatalf("exit code: got %d, want %d\n%s", code, service.ExitConfig, c.output())
	}
	out := c.output()
	for _, want := range []string{"owner-set", "tier-set", "lifecycle-set", "Set Info.Owner"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"msg":"service ready"`) {
		t.Errorf("the service became ready before refusing:\n%s", out)
	}
}

func TestComplianceReportModeStartsAndServesReport(t *testing.T) {
	c := startChild(t, map[string]string{"COMPLIANCE_MODE": "report", "DRAIN_DELAY": "0s"}, true)
	req, _ := http.NewRequest("GET", c.admin+"/compliance", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep compliance.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.Compliant() {
		t.Error("the child service (no owner) reported compliant")
	}
	if r, _ := rep.Result("owner-set"); r.Status != compliance.StatusFail {
		t.Errorf("owner-set: got %s, want fail", r.Status)
	}
	if !strings.Contains(c.output(), "compliance") {
		t.Errorf("no compliance summary in the log:\n%s", c.output())
	}
	if !errors.Is(rep.Enforce(), compliance.ErrNotCompliant) {
		t.Error("Enforce of a failing report does not match ErrNotCompliant")
	}
}
