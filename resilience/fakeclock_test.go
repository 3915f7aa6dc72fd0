package resilience_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paved-road/paved/resilience"
)

// countingTransport answers every request 503 at once and counts the requests.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody, Request: req}, nil
}

// TestNoReplayWithoutIdempotency: on a fake clock, a request the RoundTripper cannot
// know to be safe to repeat (a non-idempotent method with neither an Idempotency-Key
// nor an Idempotent context, or a body that cannot be replayed) is sent once, whatever
// the retry settings; the others are sent MaxAttempts times.
func TestNoReplayWithoutIdempotency(t *testing.T) {
	tests := []struct {
		method    string
		body      func() io.Reader
		key       bool
		ctxMark   bool
		wantCalls int32
	}{
		{method: http.MethodPost, wantCalls: 1},
		{method: http.MethodPost, body: func() io.Reader { return strings.NewReader("x") }, wantCalls: 1},
		{method: http.MethodPatch, body: func() io.Reader { return strings.NewReader("x") }, wantCalls: 1},
		{method: "CONNECT", wantCalls: 1},
		{method: http.MethodPost, body: func() io.Reader { return strings.NewReader("x") }, key: true, wantCalls: 4},
		{method: http.MethodPost, body: func() io.Reader { return bytes.NewReader([]byte("x")) }, ctxMark: true, wantCalls: 4},
		{method: http.MethodPost, body: func() io.Reader { return io.MultiReader(strings.NewReader("x")) }, key: true, wantCalls: 1},
		{method: http.MethodPut, body: func() io.Reader { return io.MultiReader(strings.NewReader("x")) }, wantCalls: 1},
		{method: http.MethodGet, wantCalls: 4},
		{method: http.MethodPut, body: func() io.Reader { return strings.NewReader("x") }, wantCalls: 4},
		{method: http.MethodDelete, wantCalls: 4},
	}
	for _, tt := range tests {
		name := tt.method
		if tt.body != nil {
			name += " with a body"
		}
		if tt.key {
			name += " and an Idempotency-Key"
		}
		if tt.ctxMark {
			name += " and an Idempotent context"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := mustPolicy(t, "dep", resilience.PolicyConfig{
					Breaker: resilience.BreakerConfig{Disabled: true},
					Retry:   resilience.RetryConfig{MaxAttempts: 4, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, BudgetRatio: -1},
				})
				var tr countingTransport
				ctx := t.Context()
				if tt.ctxMark {
					ctx = resilience.Idempotent(ctx)
				}
				var body io.Reader
				if tt.body != nil {
					body = tt.body()
				}
				req, err := http.NewRequestWithContext(ctx, tt.method, "http://dep.invalid/", body)
				if err != nil {
					t.Fatal(err)
				}
				if tt.key {
					req.Header.Set("Idempotency-Key", "k-1")
				}
				resp, err := p.RoundTripper(&tr).RoundTrip(req)
				if err != nil {
					t.Fatalf("got %v, want the 503", err)
				}
				resp.Body.Close()
				if got := tr.n.Load(); got != tt.wantCalls {
					t.Fatalf("requests sent got %d, want %d", got, tt.wantCalls)
				}
			})
		})
	}
}

// TestNoAttemptAfterDeadline: on a fake clock, whatever bounds the call (the caller's
// deadline, the policy's Timeout, a Retry-After) no attempt starts at or after the
// deadline, none starts without its full AttemptTimeout before it, and the call ends
// by the deadline.
func TestNoAttemptAfterDeadline(t *testing.T) {
	tests := []struct {
		name           string
		callerTimeout  time.Duration // 0: none
		timeout        time.Duration // PolicyConfig.Timeout
		attemptTimeout time.Duration
		backoff        time.Duration
		err            error // each attempt's error; nil: the attempt waits for its context
		wantAttempts   int   // -1: any (the backoff's full jitter decides)
	}{
		{name: "caller deadline, attempts wait out their timeout", callerTimeout: 5 * time.Second, timeout: -1,
			attemptTimeout: 2 * time.Second, backoff: 100 * time.Millisecond, wantAttempts: 2},
		{name: "overall timeout, fast failures", timeout: time.Second, attemptTimeout: -1,
			backoff: 300 * time.Millisecond, err: errBoom, wantAttempts: -1},
		{name: "overall timeout 1ms after the third attempt could start", timeout: 2*time.Second + time.Millisecond,
			attemptTimeout: time.Second, backoff: time.Nanosecond, wantAttempts: 2},
		{name: "caller deadline before the overall timeout", callerTimeout: 1500 * time.Millisecond, timeout: 10 * time.Second,
			attemptTimeout: time.Second, backoff: time.Nanosecond, wantAttempts: 1},
		{name: "Retry-After past the deadline", callerTimeout: 3 * time.Second, timeout: -1, attemptTimeout: -1,
			backoff: time.Nanosecond, err: &resilience.StatusError{Code: 503, Wait: 5 * time.Second}, wantAttempts: 1},
		{name: "backoff longer than what is left", timeout: time.Second, attemptTimeout: -1,
			backoff: 2 * time.Second, err: errBoom, wantAttempts: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := mustPolicy(t, "dep", resilience.PolicyConfig{
					Breaker: resilience.BreakerConfig{Disabled: true}, Timeout: tt.timeout, AttemptTimeout: tt.attemptTimeout,
					Retry: resilience.RetryConfig{MaxAttempts: 100, InitialBackoff: tt.backoff, MaxBackoff: tt.backoff,
						Multiplier: 1, BudgetRatio: -1, MaxRetryAfter: time.Minute},
				})
				start := time.Now()
				deadline := time.Time{}
				ctx := t.Context()
				if tt.callerTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.callerTimeout)
					defer cancel()
					deadline = start.Add(tt.callerTimeout)
				}
				if tt.timeout > 0 && (deadline.IsZero() || start.Add(tt.timeout).Before(deadline)) {
					deadline = start.Add(tt.timeout)
				}
				attempts := 0
				_, _ = resilience.Do(ctx, p, func(ctx context.Context) (int, error) {
					attempts++
					now := time.Now()
					if !now.Before(deadline) {
						t.Errorf("attempt %d started at %v, at or after the deadline %v", attempts, now.Sub(start), deadline.Sub(start))
					}
					if tt.attemptTimeout > 0 && deadline.Sub(now) < tt.attemptTimeout && attempts > 1 {
						t.Errorf("attempt %d started %v before the deadline, less than its %v timeout", attempts, deadline.Sub(now), tt.attemptTimeout)
					}
					if dl, ok := ctx.Deadline(); !ok || dl.After(deadline) {
						t.Errorf("attempt %d: deadline %v (ok %v), want by %v", attempts, dl.Sub(start), ok, deadline.Sub(start))
					}
					if tt.err != nil {
						return 0, tt.err
					}
					<-ctx.Done()
					return 0, ctx.Err()
				})
				if tt.wantAttempts >= 0 && attempts != tt.wantAttempts {
					t.Errorf("attempts got %d, want %d", attempts, tt.wantAttempts)
				}
				if end := time.Now(); end.After(deadline) {
					t.Errorf("call ended %v after the deadline", end.Sub(deadline))
				}
			})
		})
	}
}
