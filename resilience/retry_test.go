package resilience_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/resilience"
)

// outage offers rate calls per second for d of virtual time to a dependency
// that fails every attempt, and returns attempts and calls.
func outage(t *testing.T, p *resilience.Policy, rate int, d time.Duration) (attempts, calls int64) {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		<-tick.C
		calls++
		wg.Go(func() {
			_, err := resilience.Do(context.Background(), p, func(context.Context) (int, error) {
				n.Add(1)
				return 0, errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("got %v, want %v", err, errBoom)
			}
		})
	}
	wg.Wait()
	return n.Load(), calls
}

// TestRetryBudgetDuringOutage: with the budget, attempts stay at or under
// 1.1 × the offered calls; without it, each call makes MaxAttempts.
func TestRetryBudgetDuringOutage(t *testing.T) {
	cfg := resilience.PolicyConfig{
		Breaker: resilience.BreakerConfig{Disabled: true},
		Retry: resilience.RetryConfig{
			MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
			BudgetRatio: 0.1, BudgetMinPerSecond: 1, BudgetWindow: 10 * time.Second,
		},
	}
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		p := mustPolicy(t, "dep", cfg, resilience.WithRegisterer(reg))
		attempts, calls := outage(t, p, 100, time.Minute)
		ratio := float64(attempts) / float64(calls)
		t.Logf("with budget: %d calls, %d attempts, ratio %.3f", calls, attempts, ratio)
		if ratio > 1.1 {
			t.Fatalf("attempts/calls got %.3f, want <= 1.1", ratio)
		}
		if ratio < 1.05 {
			t.Fatalf("attempts/calls got %.3f, want the budget used (>= 1.05)", ratio)
		}
		first, _ := seriesValue(reg, "paved_retry_attempts_total", map[string]string{"name": "dep", "kind": "first"})
		retries, _ := seriesValue(reg, "paved_retry_attempts_total", map[string]string{"name": "dep", "kind": "retry"})
		if int64(first) != calls || int64(first+retries) != attempts {
			t.Fatalf("attempt metrics first, retry got %v, %v, want %d, %d", first, retries, calls, attempts-calls)
		}
		if exhausted, _ := seriesValue(reg, "paved_retry_budget_exhausted_total", map[string]string{"name": "dep"}); exhausted == 0 {
			t.Fatalf("budget exhausted got 0, want > 0")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		control := cfg
		control.Retry.BudgetRatio = -1
		p := mustPolicy(t, "dep", control)
		attempts, calls := outage(t, p, 100, time.Minute)
		ratio := float64(attempts) / float64(calls)
		t.Logf("control without budget: %d calls, %d attempts, ratio %.3f", calls, attempts, ratio)
		if ratio < 2.9 {
			t.Fatalf("control attempts/calls got %.3f, want about 3", ratio)
		}
	})
}

func TestRetryBudgetExhaustedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker: resilience.BreakerConfig{Disabled: true},
			Retry:   resilience.RetryConfig{MaxAttempts: 5, BudgetRatio: 0.1, BudgetMinPerSecond: 0.2, BudgetWindow: 10 * time.Second},
		})
		attempts := 0
		_, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) { attempts++; return 0, errBoom })
		if attempts != 3 { // floor 0.2/s × 10s = 2 retries
			t.Fatalf("attempts got %d, want 3", attempts)
		}
		if !errors.Is(err, resilience.ErrBudgetExhausted) || !errors.Is(err, errBoom) {
			t.Fatalf("got %v, want ErrBudgetExhausted wrapping %v", err, errBoom)
		}
	})
}

func TestRetryStops(t *testing.T) {
	errNotFound := &resilience.StatusError{Code: 404}
	errSlowDown := &resilience.StatusError{Code: 503, Wait: time.Minute}
	tests := []struct {
		name         string
		errs         []error // returned by attempt i; nil after the end
		wantAttempts int
		wantErr      error
	}{
		{"succeeds on the third attempt", []error{errBoom, errBoom}, 3, nil},
		{"stops at MaxAttempts", []error{errBoom, errBoom, errBoom, errBoom}, 3, errBoom},
		{"Permanent stops at once and is unwrapped", []error{resilience.Permanent(errBoom)}, 1, errBoom},
		{"a 4xx is not retried", []error{errNotFound}, 1, errNotFound},
		{"Canceled is not retried", []error{context.Canceled}, 1, context.Canceled},
		{"a Retry-After over MaxRetryAfter is not retried", []error{errSlowDown}, 1, errSlowDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := mustPolicy(t, "dep", resilience.PolicyConfig{
					Breaker: resilience.BreakerConfig{Disabled: true},
					Retry:   resilience.RetryConfig{MaxAttempts: 3},
				})
				attempts := 0
				_, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) {
					attempts++
					if attempts <= len(tt.errs) {
						return 0, tt.errs[attempts-1]
					}
					return 1, nil
				})
				if attempts != tt.wantAttempts {
					t.Fatalf("attempts got %d, want %d", attempts, tt.wantAttempts)
				}
				if tt.wantErr == nil && tt.wantAttempts == 3 && err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if tt.wantErr != nil && err != tt.wantErr {
					t.Fatalf("got %v (%T), want %v", err, err, tt.wantErr)
				}
			})
		})
	}
}

// TestRetryHonoursRetryAfter: the wait before a retry is at least the
// Retry-After the failure asked for.
func TestRetryHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{Disabled: true}})
		var times []time.Time
		_, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) {
			times = append(times, time.Now())
			if len(times) == 1 {
				return 0, &resilience.StatusError{Code: 503, Wait: 3 * time.Second}
			}
			return 1, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if gap := times[1].Sub(times[0]); gap < 3*time.Second || gap > 3*time.Second+resilience.DefaultInitialBackoff {
			t.Fatalf("gap got %v, want 3s (plus at most the backoff)", gap)
		}
	})
}

// TestRetryAttemptsInsideCallerDeadline: each attempt gets AttemptTimeout
// capped by the caller's deadline, and no attempt starts that could not get
// its full timeout before the deadline.
func TestRetryAttemptsInsideCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker:        resilience.BreakerConfig{Disabled: true},
			AttemptTimeout: 2 * time.Second,
			Retry:          resilience.RetryConfig{MaxAttempts: 10, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		})
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		callerDeadline, _ := ctx.Deadline()
		start := time.Now()
		var attempts int
		_, err := resilience.Do(ctx, p, func(ctx context.Context) (int, error) {
			attempts++
			dl, ok := ctx.Deadline()
			if !ok || dl.After(callerDeadline) || time.Until(dl) > 2*time.Second {
				t.Errorf("attempt %d: deadline got %v (ok %v), want within 2s and before the caller's", attempts, time.Until(dl), ok)
			}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		// Attempt 1: 0–2s; attempt 2: ≤2.1–4.1s; then < 2s are left: stop.
		if attempts != 2 {
			t.Fatalf("attempts got %d, want 2", attempts)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want %v", err, context.DeadlineExceeded)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("took %v, want within the caller's 5s", took)
		}
	})
}

// TestPolicyOverallTimeout bounds retries and backoff together.
func TestPolicyOverallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker:        resilience.BreakerConfig{Disabled: true},
			Timeout:        time.Second,
			AttemptTimeout: -1,
			Retry:          resilience.RetryConfig{MaxAttempts: 100, InitialBackoff: 300 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, BudgetRatio: -1},
		})
		start := time.Now()
		_, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) { return 0, errBoom })
		if !errors.Is(err, errBoom) {
			t.Fatalf("got %v, want %v", err, errBoom)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("took %v, want at most the 1s overall timeout", took)
		}
	})
}

// TestPolicyOpenBreakerNotRetried: an open breaker fails fast, no retries.
func TestPolicyOpenBreakerNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker: resilience.BreakerConfig{ConsecutiveFailures: 2},
			Retry:   resilience.RetryConfig{MaxAttempts: 5},
		})
		attempts := 0
		_, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) { attempts++; return 0, errBoom })
		if attempts != 2 || !errors.Is(err, resilience.ErrOpen) {
			t.Fatalf("got %d attempts and %v, want 2 and ErrOpen", attempts, err)
		}
		start := time.Now()
		_, err = resilience.Do(t.Context(), p, func(context.Context) (int, error) { attempts++; return 0, nil })
		if attempts != 2 || !errors.Is(err, resilience.ErrOpen) || time.Since(start) != 0 {
			t.Fatalf("got %d attempts, %v after %v, want 2, ErrOpen at once", attempts, err, time.Since(start))
		}
	})
}

// TestPolicyEndpoint applies the policy as a go-kit middleware.
func TestPolicyEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{})
		calls := 0
		var e endpoint.Endpoint = func(_ context.Context, req any) (any, error) {
			calls++
			if calls == 1 {
				return nil, errBoom
			}
			return req.(string) + "!", nil
		}
		e = endpoint.Chain(p.Endpoint())(e)
		got, err := e(t.Context(), "hi")
		if err != nil || got != "hi!" || calls != 2 {
			t.Fatalf("got %v, %v after %d calls, want hi!, nil after 2", got, err, calls)
		}
	})
}
