package health_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/paved-road/paved/health"
)

// TestMetricsPassPromtool runs `promtool check metrics` (path in PAVED_TEST_PROMTOOL) on
// the registry's metrics.
func TestMetricsPassPromtool(t *testing.T) {
	bin := os.Getenv("PAVED_TEST_PROMTOOL")
	if bin == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_PROMTOOL is not set; want the path of promtool")
		}
		t.Skip("PAVED_TEST_PROMTOOL is not set")
	}
	promReg := prometheus.NewPedanticRegistry()
	reg, err := health.New(health.Options{Registerer: promReg})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	must(t, reg.Register(health.Check{Name: "db", Kinds: health.Readiness | health.Startup, Check: func(context.Context) error { return errors.New("down") }}))
	must(t, reg.Register(health.Check{Name: "loop", Kinds: health.Liveness, Check: ok}))
	reg.Evaluate(context.Background(), health.AllKinds)
	mfs, err := promReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	text := buf.String()
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
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: got %v\n%s, want no problems", err, out)
	}
}
