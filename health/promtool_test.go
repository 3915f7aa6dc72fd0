package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/internal/testenv"
)

// TestMetricsPassPromtool runs `promtool check metrics` (path in PAVED_TEST_PROMTOOL) on
// the registry's metrics.
func TestMetricsPassPromtool(t *testing.T) {
	promReg := prometheus.NewPedanticRegistry()
	reg, err := health.New(health.Options{Registerer: promReg})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	must(t, reg.Register(health.Check{Name: "db", Kinds: health.Readiness | health.Startup, Check: func(context.Context) error { return errors.New("down") }}))
	must(t, reg.Register(health.Check{Name: "loop", Kinds: health.Liveness, Check: ok}))
	reg.Evaluate(context.Background(), health.AllKinds)
	text := testenv.Exposition(t, promReg)
	for _, want := range []string{
		`paved_health_check_status{check="db",kind="readiness"} 0`,
		`paved_health_check_status{check="db",kind="startup"} 0`,
		`paved_health_check_status{check="loop",kind="liveness"} 1`,
		`paved_health_check_duration_seconds_count{check="db"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("got\n%s\nwant a line %q", text, want)
		}
	}
	testenv.Promtool(t, text)
}
