package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/paved-road/paved/service"
)

// TestStopBudget: the budget follows DRAIN_DELAY, SHUTDOWN_TIMEOUT and the OTLP export
// timeout (capped at 5s), on top of the 2s deregistration bound.
func TestStopBudget(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want time.Duration
	}{
		{map[string]string{}, 27 * time.Second},
		{map[string]string{"DRAIN_DELAY": "10s", "SHUTDOWN_TIMEOUT": "40s"}, 57 * time.Second},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "1500"}, 23500 * time.Millisecond},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "60000"}, 27 * time.Second},
	}
	for _, tt := range tests {
		cfg, err := service.Load[service.Config](service.WithEnviron(tt.env))
		if err != nil {
			t.Fatal(err)
		}
		if got := service.StopBudget(cfg); got != tt.want {
			t.Errorf("StopBudget(%v): got %v, want %v", tt.env, got, tt.want)
		}
	}
}

// The grace period a Deployment needs for the default settings, and for a longer drain.
func ExampleStopBudget() {
	cfg, _ := service.Load[service.Config](service.WithEnviron(map[string]string{}))
	fmt.Println(service.StopBudget(cfg))
	cfg, _ = service.Load[service.Config](service.WithEnviron(map[string]string{"DRAIN_DELAY": "15s"}))
	fmt.Println(service.StopBudget(cfg))
	// Output:
	// 27s
	// 37s
}
