package discovery_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
)

// TestRegistrationMetricPassesPromtool runs `promtool check metrics` (from
// PAVED_TEST_PROMTOOL) on the agent's metric.
func TestRegistrationMetricPassesPromtool(t *testing.T) {
	promtool := os.Getenv("PAVED_TEST_PROMTOOL")
	if promtool == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_PROMTOOL is not set and PAVED_TEST_REQUIRE_SERVERS=1")
		}
		t.Skip("PAVED_TEST_PROMTOOL is not set")
	}
	reg := prometheus.NewPedanticRegistry()
	if _, err := discovery.NewAgent(&static.Registry{}, testInstance(), discovery.WithRegisterer(reg)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
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
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: got %v, want success\n%s", err, out)
	}
}
