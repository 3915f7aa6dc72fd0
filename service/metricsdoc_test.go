package service_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
)

// TestMetricsDocMatchesService runs a service wired with a health check, a resilience
// policy with every part on, registration and a concurrency limit, scrapes its /metrics,
// and fails when it exposes a name docs/metrics.md does not list, or when the doc lists
// a name no Paved source file defines.
func TestMetricsDocMatchesService(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s", "HTTP_MAX_CONCURRENT": "8",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: "metrics-doc", Version: "1.0.0"}, &cfg,
		service.WithLogOutput(io.Discard), service.WithRegistrar(&static.Registry{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Health().Register(health.Check{Name: "db", Check: func(context.Context) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Policy("inventory", resilience.PolicyConfig{
		Bulkhead:  resilience.BulkheadConfig{MaxConcurrent: 4},
		RateLimit: resilience.RateLimitConfig{Rate: 100, Burst: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	defer func() { cancel(); <-done }()

	if _, err := resilience.Do(ctx, p, func(context.Context) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	probe(t, "http://"+s.HTTPAddr().String()+"/x")
	probe(t, "http://"+s.AdminAddr().String()+"/readyz")
	resp, err := http.Get("http://" + s.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if err != nil {
		t.Fatal(err)
	}

	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_:*]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for name := range families {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") || name == "promhttp_metric_handler_errors_total" {
			continue
		}
		if !documented[name] {
			t.Errorf("the service exposes %s, which docs/metrics.md does not list", name)
		}
	}
	for _, want := range []string{"build_info", "http_server_request_duration_seconds", "paved_health_check_status",
		"paved_breaker_state", "paved_registration_state", "paved_bulkhead_rejections_total"} {
		if _, ok := families[want]; !ok {
			t.Errorf("the service does not expose %s", want)
		}
	}

	// Every documented name is defined somewhere in the module's code.
	var src strings.Builder
	_ = filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			src.Write(b)
		}
		return nil
	})
	for name := range documented {
		if strings.ContainsAny(name, "*") || !model.LegacyValidation.IsValidMetricName(name) {
			continue
		}
		if !strings.Contains(src.String(), `"`+name+`"`) {
			t.Errorf("docs/metrics.md lists %s, which no Paved source file defines", name)
		}
	}
}
