package resilience_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paved-road/paved/resilience"
)

// loopbackServer is a real HTTP server on 127.0.0.1.
func loopbackServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, p *resilience.Policy) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: p.RoundTripper(tr)}
}

func mustPolicy(t *testing.T, name string, cfg resilience.PolicyConfig, opts ...resilience.Option) *resilience.Policy {
	t.Helper()
	p, err := resilience.NewPolicy(name, cfg, opts...)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func get(t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestBreakerAgainstFailingServer: a real server fails everything for a
// while; the breaker opens within its threshold, fails fast while open,
// lets a probe through after the timeout and closes on recovery.
func TestBreakerAgainstFailingServer(t *testing.T) {
	var failing atomic.Bool
	var hits atomic.Int32
	failing.Store(true)
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	const threshold, openTimeout = 5, 300 * time.Millisecond
	p := mustPolicy(t, "backend", resilience.PolicyConfig{
		Breaker: resilience.BreakerConfig{ConsecutiveFailures: threshold, OpenTimeout: openTimeout},
		Retry:   resilience.RetryConfig{MaxAttempts: 1},
	})
	c := newClient(t, p)

	for i := 1; i <= threshold; i++ {
		code, err := get(t, c, srv.URL)
		if err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("call %d: got %d %v, want 503 from the server", i, code, err)
		}
	}
	if got := p.State(); got != resilience.StateOpen {
		t.Fatalf("state after %d failures got %v, want %v", threshold, got, resilience.StateOpen)
	}

	// While open: fail fast with ErrOpen, the server sees nothing.
	before := hits.Load()
	var durations []time.Duration
	for range 100 {
		start := time.Now()
		_, err := get(t, c, srv.URL)
		durations = append(durations, time.Since(start))
		if !errors.Is(err, resilience.ErrOpen) {
			t.Fatalf("got %v, want ErrOpen", err)
		}
		if wait, ok := resilience.RetryAfter(err); !ok || wait <= 0 || wait > openTimeout {
			t.Fatalf("RetryAfter got %v %v, want in (0, %v]", wait, ok, openTimeout)
		}
	}
	// The 90th percentile, not the maximum: on a loaded CI machine (and
	// under -race) a goroutine can be descheduled for milliseconds whatever
	// the code does; typical calls here take about 20µs.
	slices.Sort(durations)
	if p90 := durations[89]; p90 >= time.Millisecond {
		t.Fatalf("p90 of open-breaker calls got %v, want under 1ms (all: %v)", p90, durations)
	}
	if got := hits.Load(); got != before {
		t.Fatalf("server hits while open got %d, want %d", got, before)
	}

	// After the timeout one probe goes through; the server still fails, so
	// the breaker reopens.
	time.Sleep(openTimeout + 10*time.Millisecond)
	if code, err := get(t, c, srv.URL); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("probe got %d %v, want 503 from the server", code, err)
	}
	if got := hits.Load(); got != before+1 {
		t.Fatalf("server hits after probe got %d, want %d", got, before+1)
	}
	if got := p.State(); got != resilience.StateOpen {
		t.Fatalf("state after failed probe got %v, want %v", got, resilience.StateOpen)
	}

	// The server recovers; the next probe closes the breaker.
	failing.Store(false)
	time.Sleep(openTimeout + 10*time.Millisecond)
	for i := range 3 {
		if code, err := get(t, c, srv.URL); err != nil || code != http.StatusOK {
			t.Fatalf("call %d after recovery got %d %v, want 200", i, code, err)
		}
	}
	if got := p.State(); got != resilience.StateClosed {
		t.Fatalf("state after recovery got %v, want %v", got, resilience.StateClosed)
	}
}

// TestRoundTripperRetriesOnlySafeRequests: no automatic replay of a POST
// without an idempotency mark; marked requests replay their body intact.
func TestRoundTripperRetriesOnlySafeRequests(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		http.Error(w, "down", http.StatusBadGateway)
	}))
	p := mustPolicy(t, "backend", resilience.PolicyConfig{
		Breaker: resilience.BreakerConfig{Disabled: true},
		Retry:   resilience.RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
	})
	c := newClient(t, p)

	tests := []struct {
		name      string
		req       func() *http.Request
		wantCalls int
	}{
		{"GET is retried", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			return r
		}, 3},
		{"PUT with a replayable body is retried", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPut, srv.URL, strings.NewReader("payload"))
			return r
		}, 3},
		{"POST is not retried", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("payload"))
			return r
		}, 1},
		{"PATCH is not retried", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPatch, srv.URL, strings.NewReader("payload"))
			return r
		}, 1},
		{"POST with Idempotency-Key is retried", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader([]byte("payload")))
			r.Header.Set("Idempotency-Key", "k-1")
			return r
		}, 3},
		{"POST with an Idempotent context is retried", func() *http.Request {
			r, _ := http.NewRequestWithContext(resilience.Idempotent(context.Background()), http.MethodPost, srv.URL, strings.NewReader("payload"))
			return r
		}, 3},
		{"a body that cannot be replayed is not retried", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPut, srv.URL, io.NopCloser(strings.NewReader("payload")))
			return r
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			bodies = nil
			mu.Unlock()
			resp, err := c.Do(tt.req())
			if err != nil {
				t.Fatalf("got %v, want the server's 502", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status got %d, want %d", resp.StatusCode, http.StatusBadGateway)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != tt.wantCalls {
				t.Fatalf("server calls got %d, want %d", len(bodies), tt.wantCalls)
			}
			for i, b := range bodies {
				if b != bodies[0] {
					t.Fatalf("body of call %d got %q, want %q", i, b, bodies[0])
				}
			}
		})
	}
}

// TestRoundTripperClassifiesStatus: 429 and 5xx count as failures, other
// 4xx do not; Retry-After on a 429 is honoured.
func TestRoundTripperClassifiesStatus(t *testing.T) {
	var status atomic.Int32
	var mu sync.Mutex
	var times []time.Time
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if s := int(status.Load()); s == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(s)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	p := mustPolicy(t, "backend", resilience.PolicyConfig{
		Breaker: resilience.BreakerConfig{ConsecutiveFailures: 3},
		Retry:   resilience.RetryConfig{MaxAttempts: 1},
	})
	c := newClient(t, p)
	status.Store(http.StatusNotFound)
	for range 5 {
		if code, err := get(t, c, srv.URL); err != nil || code != http.StatusNotFound {
			t.Fatalf("got %d %v, want 404", code, err)
		}
	}
	if got := p.State(); got != resilience.StateClosed {
		t.Fatalf("state after 404s got %v, want %v", got, resilience.StateClosed)
	}
	status.Store(http.StatusTooManyRequests)
	for range 3 {
		_, _ = get(t, c, srv.URL)
	}
	if got := p.State(); got != resilience.StateOpen {
		t.Fatalf("state after 429s got %v, want %v", got, resilience.StateOpen)
	}

	// Retry-After: 1 is waited for before the retry.
	p2 := mustPolicy(t, "backend2", resilience.PolicyConfig{
		Breaker: resilience.BreakerConfig{Disabled: true},
		Retry:   resilience.RetryConfig{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
	})
	mu.Lock()
	times = nil
	mu.Unlock()
	if code, err := get(t, newClient(t, p2), srv.URL); err != nil || code != http.StatusTooManyRequests {
		t.Fatalf("got %d %v, want 429", code, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 2 {
		t.Fatalf("server calls got %d, want 2", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < time.Second {
		t.Fatalf("gap before retry got %v, want at least the Retry-After of 1s", gap)
	}
}

// TestRoundTripperTimeoutCoversBody: the attempt timeout still applies while
// the caller reads the body, and closing the body releases the bulkhead.
func TestRoundTripperTimeoutCoversBody(t *testing.T) {
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "head")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // never finishes the body
	}))
	p := mustPolicy(t, "slow", resilience.PolicyConfig{
		AttemptTimeout: 200 * time.Millisecond,
		Bulkhead:       resilience.BulkheadConfig{MaxConcurrent: 1},
		Retry:          resilience.RetryConfig{MaxAttempts: 1},
	})
	c := newClient(t, p)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The bulkhead slot is held while the body is open.
	if _, err := c.Get(srv.URL); !errors.Is(err, resilience.ErrBulkheadFull) {
		t.Fatalf("second call got %v, want ErrBulkheadFull", err)
	}
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read got %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("read took %v, want about 200ms", d)
	}
	resp.Body.Close()
	resp, err = c.Get(srv.URL)
	if err != nil {
		t.Fatalf("call after close got %v, want a response", err)
	}
	resp.Body.Close()
}

// TestRoundTripperCallerDeadlineNeverTrips: over real HTTP, requests the
// caller abandons (its own deadline) do not count, while the policy's own
// attempt timeout does.
func TestRoundTripperCallerDeadlineNeverTrips(t *testing.T) {
	srv := loopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hangs
	}))
	p := mustPolicy(t, "hung", resilience.PolicyConfig{
		AttemptTimeout: 300 * time.Millisecond,
		Breaker:        resilience.BreakerConfig{ConsecutiveFailures: 2},
		Retry:          resilience.RetryConfig{MaxAttempts: 1},
	})
	c := newClient(t, p)
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		_, err := c.Do(req)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want %v", err, context.DeadlineExceeded)
		}
	}
	if got := p.State(); got != resilience.StateClosed {
		t.Fatalf("state after abandoned calls got %v, want %v", got, resilience.StateClosed)
	}
	for range 2 {
		if _, err := c.Get(srv.URL); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want the attempt timeout", err)
		}
	}
	if got := p.State(); got != resilience.StateOpen {
		t.Fatalf("state after attempt timeouts got %v, want %v", got, resilience.StateOpen)
	}
}

type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// TestRoundTripperClosesBodyWhenRefused: a request refused before any
// attempt (open breaker) still has its body closed, as RoundTrip must.
func TestRoundTripperClosesBodyWhenRefused(t *testing.T) {
	p := mustPolicy(t, "down", resilience.PolicyConfig{Breaker: resilience.BreakerConfig{ConsecutiveFailures: 1}})
	_, _ = resilience.Do(t.Context(), p, func(context.Context) (int, error) { return 0, errBoom })
	body := &closeTracker{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", body)
	_, err := p.RoundTripper(http.DefaultTransport).RoundTrip(req)
	if !errors.Is(err, resilience.ErrOpen) {
		t.Fatalf("got %v, want ErrOpen", err)
	}
	if !body.closed.Load() {
		t.Fatal("request body not closed, want closed")
	}
}
