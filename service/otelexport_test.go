package service_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/telemetry/otelexport"
)

// TestOTelExportLinkedByMain: OTEL_METRICS_EXPORTER=otlp and OTEL_LOGS_EXPORTER=otlp in
// a service whose main did not link the export is a configuration error (exit 2)
// naming both variables and the line to add; with service.WithOTelExport it starts,
// and the compliance facts say what is pushed.
func TestOTelExportLinkedByMain(t *testing.T) {
	env := map[string]string{
		"OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp",
		// Nothing listens: New does not connect; Close aborts the last push.
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
	}
	cfg, err := service.Load[service.Config](service.WithEnviron(env))
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(service.Info{Name: "orders"}, &cfg, service.WithLogOutput(io.Discard))
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 ||
		!strings.Contains(err.Error(), "OTEL_METRICS_EXPORTER") || !strings.Contains(err.Error(), "OTEL_LOGS_EXPORTER") ||
		!strings.Contains(err.Error(), "service.WithOTelExport(otelexport.Signals())") {
		t.Fatalf("got %v, want a *service.ConfigError naming both variables and WithOTelExport", err)
	}
	cfg, _ = service.Load[service.Config](service.WithEnviron(env))
	s, err := service.New(service.Info{Name: "orders"}, &cfg, service.WithLogOutput(io.Discard),
		service.WithOTelExport(otelexport.Signals()))
	if err != nil {
		t.Fatalf("with the export linked: got %v, want nil", err)
	}
	f := s.Facts()
	if want := []string{"metrics:otlp/http/protobuf", "logs:otlp/http/protobuf"}; !slices.Equal(f.SignalsExported, want) || f.MetricsServed {
		t.Errorf("facts: got signals %v, metrics served %t; want %v and no /metrics", f.SignalsExported, f.MetricsServed, want)
	}
	ruled := false
	for _, r := range compliance.Evaluate(f, compliance.DefaultRuleSet()).Results {
		if r.ID == "metrics-served" {
			ruled = true
			if r.Status != compliance.StatusPass || !strings.Contains(r.Message, "pushed") {
				t.Errorf("metrics rule: got %s %q, want a pass saying metrics are pushed", r.Status, r.Message)
			}
		}
	}
	if !ruled {
		t.Error("no metrics-served rule in the default rule set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2e9)
	defer cancel()
	_ = s.Close(ctx) // the collector is not there: the last push fails
}

// TestMetricsExporterDecidesMetricsEndpoint: /metrics is served with prometheus in
// OTEL_METRICS_EXPORTER (or it unset) and not with none.
func TestMetricsExporterDecidesMetricsEndpoint(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  int
	}{{"", 200}, {"prometheus", 200}, {"none", 404}} {
		env := map[string]string{}
		if tt.value != "" {
			env["OTEL_METRICS_EXPORTER"] = tt.value
		}
		s := newAPIService(t, env, service.Info{})
		run(t, s)
		if code, _ := get(t, "http://"+s.AdminAddr().String()+"/metrics"); code != tt.want {
			t.Errorf("OTEL_METRICS_EXPORTER=%q: GET /metrics got %d, want %d", tt.value, code, tt.want)
		}
		if served := s.Facts().MetricsServed; served != (tt.want == 200) {
			t.Errorf("OTEL_METRICS_EXPORTER=%q: MetricsServed %t", tt.value, served)
		}
	}
}
