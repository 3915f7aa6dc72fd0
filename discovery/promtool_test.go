package discovery_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/internal/testenv"
)

// TestRegistrationMetricPassesPromtool runs `promtool check metrics` (from
// PAVED_TEST_PROMTOOL) on the agent's metric.
func TestRegistrationMetricPassesPromtool(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if _, err := discovery.NewAgent(&static.Registry{}, testInstance(), discovery.WithRegisterer(reg)); err != nil {
		t.Fatal(err)
	}
	testenv.Promtool(t, testenv.Exposition(t, reg))
}
