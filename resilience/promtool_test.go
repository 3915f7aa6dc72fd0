package resilience_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/resilience"
)

// TestMetricsPassPromtool exposes every metric of a policy with all parts
// and runs `promtool check metrics` on it. It needs promtool on PATH (or in
// PAVED_TEST_PROMTOOL); without it the test skips, unless
// PAVED_TEST_REQUIRE_SERVERS=1.
func TestMetricsPassPromtool(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p := mustPolicy(t, "inventory", resilience.PolicyConfig{
		Bulkhead:  resilience.BulkheadConfig{MaxConcurrent: 1},
		RateLimit: resilience.RateLimitConfig{Rate: 100},
	}, resilience.WithRegisterer(reg))
	_, _ = resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 1, nil })

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, name := range []string{
		"paved_breaker_state", "paved_breaker_transitions_total", "paved_breaker_results_total",
		"paved_retry_attempts_total", "paved_retry_budget_exhausted_total",
		"paved_bulkhead_rejections_total", "paved_ratelimit_rejections_total",
	} {
		if !strings.Contains(text, "# TYPE "+name+" ") {
			t.Errorf("exposition lacks %s", name)
		}
	}
	testenv.Promtool(t, text)
}
