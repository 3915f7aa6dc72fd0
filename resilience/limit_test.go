package resilience_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paved-road/paved/resilience"
)

func TestBulkhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker:  resilience.BreakerConfig{Disabled: true},
			Bulkhead: resilience.BulkheadConfig{MaxConcurrent: 2, MaxQueue: 1, MaxWait: 100 * time.Millisecond},
		}, resilience.WithRegisterer(reg))
		release := make(chan struct{})
		blocked := func(context.Context) (int, error) { <-release; return 1, nil }
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := resilience.Do(context.Background(), p, blocked); err != nil {
					t.Errorf("holder got %v, want nil", err)
				}
			})
		}
		synctest.Wait()
		// The third call queues and times out after MaxWait.
		queued := make(chan error)
		start := time.Now()
		go func() {
			_, err := resilience.Do(context.Background(), p, blocked)
			queued <- err
		}()
		synctest.Wait()
		// The fourth finds the queue full: rejected at once.
		ran := false
		_, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) { ran = true; return 0, nil })
		if !errors.Is(err, resilience.ErrBulkheadFull) || ran {
			t.Fatalf("fourth call got %v (ran %v), want ErrBulkheadFull without running", err, ran)
		}
		if err := <-queued; !errors.Is(err, resilience.ErrBulkheadFull) {
			t.Fatalf("queued call got %v, want ErrBulkheadFull", err)
		}
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Fatalf("queued call waited %v, want 100ms", waited)
		}
		// A queued caller whose context ends gets its context's error.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if _, err := resilience.Do(ctx, p, blocked); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled queued call got %v, want %v", err, context.DeadlineExceeded)
		}
		if got, _ := seriesValue(reg, "paved_bulkhead_rejections_total", map[string]string{"name": "dep"}); got != 2 {
			t.Fatalf("rejections got %v, want 2", got)
		}
		// A queued call gets the slot a finishing call frees.
		go func() {
			_, err := resilience.Do(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
			queued <- err
		}()
		synctest.Wait()
		release <- struct{}{}
		if err := <-queued; err != nil {
			t.Fatalf("queued call got %v, want nil", err)
		}
		close(release)
		wg.Wait()
	})
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker:   resilience.BreakerConfig{Disabled: true},
			RateLimit: resilience.RateLimitConfig{Rate: 10, Burst: 2},
		}, resilience.WithRegisterer(reg))
		ok := func(context.Context) (int, error) { return 1, nil }
		for i := range 2 {
			if _, err := resilience.Do(t.Context(), p, ok); err != nil {
				t.Fatalf("call %d in the burst got %v, want nil", i, err)
			}
		}
		_, err := resilience.Do(t.Context(), p, ok)
		var rl *resilience.RateLimitError
		if !errors.As(err, &rl) || !errors.Is(err, resilience.ErrRateLimited) {
			t.Fatalf("got %v, want a *RateLimitError", err)
		}
		if wait, _ := resilience.RetryAfter(err); wait != 100*time.Millisecond {
			t.Fatalf("RetryAfter got %v, want 100ms", wait)
		}
		time.Sleep(100 * time.Millisecond)
		if _, err := resilience.Do(t.Context(), p, ok); err != nil {
			t.Fatalf("after a token's time got %v, want nil", err)
		}
		if got, _ := seriesValue(reg, "paved_ratelimit_rejections_total", map[string]string{"name": "dep"}); got != 1 {
			t.Fatalf("rejections got %v, want 1", got)
		}
	})
}

func TestRateLimitWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := mustPolicy(t, "dep", resilience.PolicyConfig{
			Breaker:   resilience.BreakerConfig{Disabled: true},
			RateLimit: resilience.RateLimitConfig{Rate: 10, Burst: 1, MaxWait: 150 * time.Millisecond},
		})
		ok := func(context.Context) (int, error) { return 1, nil }
		start := time.Now()
		for i := range 2 {
			if _, err := resilience.Do(t.Context(), p, ok); err != nil {
				t.Fatalf("call %d got %v, want nil", i, err)
			}
		}
		if took := time.Since(start); took != 100*time.Millisecond {
			t.Fatalf("second call waited %v, want 100ms", took)
		}
		// Two more at once: the first waits 100ms, the second would wait
		// 200ms > MaxWait and is rejected without waiting.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() { _, errs[i] = resilience.Do(t.Context(), p, ok) })
			synctest.Wait()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), resilience.ErrRateLimited) {
			t.Fatalf("got %v, want one success and one ErrRateLimited", errs)
		}
		// A wait past the caller's deadline is rejected too.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if _, err := resilience.Do(ctx, p, ok); !errors.Is(err, resilience.ErrRateLimited) {
			t.Fatalf("got %v, want ErrRateLimited", err)
		}
	})
}

// TestBulkheadSlotFreedOnPanic: a panicking call gives its slot back.
func TestBulkheadSlotFreedOnPanic(t *testing.T) {
	p := mustPolicy(t, "dep", resilience.PolicyConfig{Bulkhead: resilience.BulkheadConfig{MaxConcurrent: 1}})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want boom", r)
			}
		}()
		_, _ = resilience.Do(t.Context(), p, func(context.Context) (int, error) { panic("boom") })
	}()
	if _, err := resilience.Do(t.Context(), p, func(context.Context) (int, error) { return 1, nil }); err != nil {
		t.Fatalf("call after a panic got %v, want nil", err)
	}
	if got := p.State(); got != resilience.StateClosed {
		t.Fatalf("state got %v, want %v (one panic is one failure)", got, resilience.StateClosed)
	}
}
