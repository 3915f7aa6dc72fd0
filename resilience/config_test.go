package resilience_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/resilience"
)

func TestNewPolicyRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  resilience.PolicyConfig
		want []string // substrings of the error
	}{
		{"failure ratio above 1", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{FailureRatio: 1.5}},
			[]string{"BreakerConfig.FailureRatio = 1.5", "(0, 1]"}},
		{"NaN ratio", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{FailureRatio: math.NaN()}},
			[]string{"BreakerConfig.FailureRatio = NaN"}},
		{"negative open timeout", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{OpenTimeout: -time.Second}},
			[]string{"BreakerConfig.OpenTimeout = -1s"}},
		{"bucket longer than interval", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{Interval: time.Second, BucketPeriod: time.Minute}},
			[]string{"BreakerConfig.BucketPeriod = 1m0s", "at most Interval"}},
		{"negative attempts", resilience.PolicyConfig{Retry: resilience.RetryConfig{MaxAttempts: -1}},
			[]string{"RetryConfig.MaxAttempts = -1", "1 or more"}},
		{"max backoff below initial", resilience.PolicyConfig{Retry: resilience.RetryConfig{InitialBackoff: time.Second, MaxBackoff: time.Millisecond}},
			[]string{"RetryConfig.MaxBackoff = 1ms", "at least InitialBackoff (1s)"}},
		{"multiplier below 1", resilience.PolicyConfig{Retry: resilience.RetryConfig{Multiplier: 0.5}},
			[]string{"RetryConfig.Multiplier = 0.5", ">= 1"}},
		{"budget ratio above 1", resilience.PolicyConfig{Retry: resilience.RetryConfig{BudgetRatio: 2}},
			[]string{"RetryConfig.BudgetRatio = 2"}},
		{"queue without bulkhead", resilience.PolicyConfig{Bulkhead: resilience.BulkheadConfig{MaxQueue: 3}},
			[]string{"BulkheadConfig.MaxQueue = 3 needs MaxConcurrent > 0"}},
		{"negative rate", resilience.PolicyConfig{RateLimit: resilience.RateLimitConfig{Rate: -1}},
			[]string{"RateLimitConfig.Rate = -1"}},
		{"several at once", resilience.PolicyConfig{
			Retry:     resilience.RetryConfig{MaxAttempts: -2},
			Bulkhead:  resilience.BulkheadConfig{MaxConcurrent: -1},
			RateLimit: resilience.RateLimitConfig{Burst: -1},
		}, []string{"MaxAttempts = -2", "MaxConcurrent = -1", "Burst = -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			p, err := resilience.NewPolicy("dep", tt.cfg, resilience.WithRegisterer(reg))
			if err == nil || p != nil {
				t.Fatalf("got %v, %v, want an error", p, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if mfs, _ := reg.Gather(); len(mfs) != 0 {
				t.Errorf("registered %d metric families after a failure, want 0", len(mfs))
			}
		})
	}
}

func TestNewBreakerRejectsBadInput(t *testing.T) {
	for _, name := range []string{"", "has space", "quote\"", strings.Repeat("x", 65)} {
		if _, err := resilience.NewBreaker(name, resilience.BreakerConfig{}); err == nil || !strings.Contains(err.Error(), "name") {
			t.Errorf("name %q: got %v, want an error about the name", name, err)
		}
	}
	if _, err := resilience.NewBreaker("dep", resilience.BreakerConfig{Disabled: true}); err == nil || !strings.Contains(err.Error(), "Disabled") {
		t.Errorf("disabled: got %v, want an error naming Disabled", err)
	}
}

// TestDuplicateRegistration: a second breaker with the same name on the
// same registry fails and leaves the first one's metrics intact.
func TestDuplicateRegistration(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p := mustPolicy(t, "dep", resilience.PolicyConfig{}, resilience.WithRegisterer(reg))
	before, _ := reg.Gather()
	if _, err := resilience.NewPolicy("dep", resilience.PolicyConfig{}, resilience.WithRegisterer(reg)); err == nil {
		t.Fatal("got nil, want a registration error")
	}
	after, _ := reg.Gather()
	if len(after) != len(before) {
		t.Fatalf("metric families got %d, want %d", len(after), len(before))
	}
	// Another name registers beside it.
	mustPolicy(t, "other", resilience.PolicyConfig{}, resilience.WithRegisterer(reg))
	if v, ok := seriesValue(reg, "paved_breaker_state", map[string]string{"name": "other"}); !ok || v != 0 {
		t.Fatalf("state of other got %v %v, want 0 true", v, ok)
	}
	_ = p
}

func TestPolicyDefaults(t *testing.T) {
	p := mustPolicy(t, "dep", resilience.PolicyConfig{})
	c := p.Config()
	if !p.HasBreaker() || !p.HasTimeout() {
		t.Fatalf("HasBreaker, HasTimeout got %v, %v, want true, true", p.HasBreaker(), p.HasTimeout())
	}
	if c.Timeout != resilience.DefaultTimeout || c.AttemptTimeout != resilience.DefaultAttemptTimeout ||
		c.Retry.MaxAttempts != resilience.DefaultMaxAttempts || c.Breaker.OpenTimeout != resilience.DefaultOpenTimeout ||
		c.Breaker.ConsecutiveFailures != resilience.DefaultConsecutiveFailures || c.Retry.BudgetRatio != resilience.DefaultBudgetRatio {
		t.Fatalf("defaults got %+v", c)
	}
	off := mustPolicy(t, "off", resilience.PolicyConfig{Timeout: -1, AttemptTimeout: -1, Breaker: resilience.BreakerConfig{Disabled: true}})
	if off.HasBreaker() || off.HasTimeout() || off.Breaker() != nil {
		t.Fatalf("HasBreaker, HasTimeout got %v, %v, want false, false", off.HasBreaker(), off.HasTimeout())
	}
}
