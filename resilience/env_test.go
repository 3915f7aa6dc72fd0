package resilience_test

import (
	"testing"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/paved-road/paved/resilience"
)

// TestConfigLoadsFromEnvironment: the env tags work with the loader the
// service uses (caarlos0/env) under a per-dependency prefix.
func TestConfigLoadsFromEnvironment(t *testing.T) {
	type teamConfig struct {
		Inventory resilience.PolicyConfig `envPrefix:"INVENTORY_"`
	}
	var cfg teamConfig
	err := env.ParseWithOptions(&cfg, env.Options{Prefix: "ORDERS_", Environment: map[string]string{
		"ORDERS_INVENTORY_TIMEOUT":                        "4s",
		"ORDERS_INVENTORY_ATTEMPT_TIMEOUT":                "1500ms",
		"ORDERS_INVENTORY_BREAKER_CONSECUTIVE_FAILURES":   "7",
		"ORDERS_INVENTORY_BREAKER_FAILURE_RATIO":          "0.25",
		"ORDERS_INVENTORY_BREAKER_OPEN_TIMEOUT":           "15s",
		"ORDERS_INVENTORY_BREAKER_HALF_OPEN_MAX_REQUESTS": "3",
		"ORDERS_INVENTORY_RETRY_MAX_ATTEMPTS":             "4",
		"ORDERS_INVENTORY_RETRY_BUDGET_RATIO":             "0.2",
		"ORDERS_INVENTORY_BULKHEAD_MAX_CONCURRENT":        "32",
		"ORDERS_INVENTORY_RATE_LIMIT_RATE":                "50.5",
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Inventory
	want := resilience.PolicyConfig{
		Timeout:        4 * time.Second,
		AttemptTimeout: 1500 * time.Millisecond,
		Breaker:        resilience.BreakerConfig{ConsecutiveFailures: 7, FailureRatio: 0.25, OpenTimeout: 15 * time.Second, HalfOpenMaxRequests: 3},
		Retry:          resilience.RetryConfig{MaxAttempts: 4, BudgetRatio: 0.2},
		Bulkhead:       resilience.BulkheadConfig{MaxConcurrent: 32},
		RateLimit:      resilience.RateLimitConfig{Rate: 50.5},
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	p := mustPolicy(t, "inventory", got)
	if c := p.Config(); c.Retry.MaxAttempts != 4 || c.RateLimit.Burst != 51 || c.Breaker.MinRequests != resilience.DefaultMinRequests {
		t.Fatalf("config with defaults got %+v", c)
	}
}
