package resilience_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paved-road/paved/resilience"
)

var errBoom = errors.New("boom")

func fail(context.Context) error    { return errBoom }
func succeed(context.Context) error { return nil }

func mustBreaker(t *testing.T, name string, cfg resilience.BreakerConfig, opts ...resilience.Option) *resilience.Breaker {
	t.Helper()
	b, err := resilience.NewBreaker(name, cfg, opts...)
	if err != nil {
		t.Fatalf("NewBreaker: %v", err)
	}
	return b
}

// TestBreakerStateMachine drives the breaker on virtual time.
func TestBreakerStateMachine(t *testing.T) {
	type step struct {
		do        string        // "fail", "ok", "notfound", "sleep"
		d         time.Duration // for sleep
		want      string        // state after the step; "" means don't check
		wantOpen  bool          // the call is refused with ErrOpen
		wantWait  time.Duration // the refusal's RetryAfter, when wantOpen
		wantCalls int           // calls that reached fn so far; -1: don't check
	}
	base := resilience.BreakerConfig{
		ConsecutiveFailures: 3,
		FailureRatio:        -1,
		OpenTimeout:         10 * time.Second,
		Interval:            time.Minute,
	}
	const open, closed, half = "open", "closed", "half-open"
	tests := []struct {
		name  string
		cfg   func(*resilience.BreakerConfig)
		steps []step
	}{
		{name: "trips on the third consecutive failure", steps: []step{
			{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: open},
			{do: "ok", want: open, wantOpen: true, wantWait: 10 * time.Second, wantCalls: 3},
		}},
		{name: "a success resets the consecutive count", steps: []step{
			{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "ok", want: closed},
			{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: open},
		}},
		{name: "4xx is not a failure", steps: []step{
			{do: "notfound", want: closed}, {do: "notfound", want: closed}, {do: "notfound", want: closed},
			{do: "notfound", want: closed},
		}},
		{name: "open until just after the open timeout, then a probe closes it", steps: []step{
			{do: "fail"}, {do: "fail"}, {do: "fail", want: open},
			{do: "sleep", d: 10*time.Second - time.Nanosecond, want: open},
			{do: "ok", want: open, wantOpen: true, wantWait: time.Nanosecond, wantCalls: 3},
			{do: "sleep", d: time.Nanosecond, want: open},
			{do: "ok", want: open, wantOpen: true, wantWait: 0, wantCalls: 3},
			{do: "sleep", d: time.Nanosecond, want: half},
			{do: "ok", want: closed, wantCalls: 4},
			{do: "ok", want: closed, wantCalls: 5},
		}},
		{name: "open 1ms before the open timeout and at it, half-open 1ns after", steps: []step{
			{do: "fail"}, {do: "fail"}, {do: "fail", want: open},
			{do: "sleep", d: 10*time.Second - time.Millisecond, want: open},
			{do: "ok", want: open, wantOpen: true, wantWait: time.Millisecond, wantCalls: 3},
			{do: "sleep", d: time.Millisecond, want: open},
			{do: "fail", want: open, wantOpen: true, wantWait: 0, wantCalls: 3},
			{do: "sleep", d: time.Nanosecond, want: half},
			{do: "fail", want: open, wantCalls: 4},
			{do: "sleep", d: 10*time.Second - time.Millisecond, want: open},
			{do: "sleep", d: time.Millisecond + time.Nanosecond, want: half},
			{do: "ok", want: closed, wantCalls: 5},
		}},
		{name: "a failed probe reopens for a full timeout", steps: []step{
			{do: "fail"}, {do: "fail"}, {do: "fail", want: open},
			{do: "sleep", d: 10*time.Second + time.Nanosecond, want: half},
			{do: "fail", want: open},
			{do: "ok", want: open, wantOpen: true, wantWait: 10 * time.Second, wantCalls: 4},
		}},
		{name: "half-open needs MaxRequests successes to close",
			cfg: func(c *resilience.BreakerConfig) { c.HalfOpenMaxRequests = 2 },
			steps: []step{
				{do: "fail"}, {do: "fail"}, {do: "fail", want: open},
				{do: "sleep", d: 11 * time.Second, want: half},
				{do: "ok", want: half}, {do: "ok", want: closed},
			}},
		{name: "the interval clears the counts",
			steps: []step{
				{do: "fail"}, {do: "fail", want: closed},
				{do: "sleep", d: time.Minute + time.Nanosecond, want: closed},
				{do: "fail", want: closed}, {do: "fail", want: closed}, {do: "fail", want: open},
			}},
		{name: "failure ratio over the minimum requests",
			cfg: func(c *resilience.BreakerConfig) {
				c.ConsecutiveFailures = 100
				c.FailureRatio = 0.5
				c.MinRequests = 6
			},
			steps: []step{
				{do: "fail"}, {do: "ok"}, {do: "fail"}, {do: "ok"}, {do: "fail", want: closed}, // 5 < MinRequests
				{do: "ok", want: closed}, // 3/6 failed; checked only on failure
				{do: "fail", want: open}, // 4/7 >= 0.5
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := base
				if tt.cfg != nil {
					tt.cfg(&cfg)
				}
				b := mustBreaker(t, "dep", cfg)
				calls := 0
				for i, s := range tt.steps {
					var err error
					switch s.do {
					case "sleep":
						time.Sleep(s.d)
					case "fail":
						err = b.Do(t.Context(), func(context.Context) error { calls++; return errBoom })
					case "ok":
						err = b.Do(t.Context(), func(context.Context) error { calls++; return nil })
					case "notfound":
						err = b.Do(t.Context(), func(context.Context) error { calls++; return &resilience.StatusError{Code: 404} })
					}
					if s.wantOpen {
						var oe *resilience.OpenError
						if !errors.As(err, &oe) || !errors.Is(err, resilience.ErrOpen) {
							t.Fatalf("step %d: got %v, want an *OpenError", i, err)
						}
						if got, _ := resilience.RetryAfter(err); got != s.wantWait {
							t.Errorf("step %d: RetryAfter got %v, want %v", i, got, s.wantWait)
						}
					} else if errors.Is(err, resilience.ErrOpen) {
						t.Fatalf("step %d: got %v, want the call to go through", i, err)
					}
					if s.wantCalls != 0 && calls != s.wantCalls {
						t.Errorf("step %d: calls got %d, want %d", i, calls, s.wantCalls)
					}
					if s.want != "" {
						if got := b.State().String(); got != s.want {
							t.Fatalf("step %d (%s %v): state got %v, want %v", i, s.do, s.d, got, s.want)
						}
					}
				}
			})
		})
	}
}

// TestBreakerStaleResultIgnored: a result from a call admitted before the
// breaker changed state must not count in the new state.
func TestBreakerStaleResultIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustBreaker(t, "dep", resilience.BreakerConfig{ConsecutiveFailures: 3, FailureRatio: -1, OpenTimeout: 10 * time.Second})
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			done <- b.Do(context.Background(), func(context.Context) error { <-release; return nil })
		}()
		synctest.Wait() // the slow call is admitted while closed
		for range 3 {
			_ = b.Do(t.Context(), fail)
		}
		time.Sleep(10*time.Second + time.Nanosecond)
		if got := b.State(); got != resilience.StateHalfOpen {
			t.Fatalf("state got %v, want %v", got, resilience.StateHalfOpen)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("slow call got %v, want nil", err)
		}
		// Counted, the stale success would have closed the breaker
		// (HalfOpenMaxRequests 1) and used the probe slot.
		if got := b.State(); got != resilience.StateHalfOpen {
			t.Fatalf("state after stale success got %v, want %v", got, resilience.StateHalfOpen)
		}
		if req, _, _, _ := b.Counts(); req != 0 {
			t.Fatalf("half-open requests got %d, want 0", req)
		}
		probed := false
		if err := b.Do(t.Context(), func(context.Context) error { probed = true; return nil }); err != nil || !probed {
			t.Fatalf("probe got err %v ran %v, want nil true", err, probed)
		}
		if got := b.State(); got != resilience.StateClosed {
			t.Fatalf("state got %v, want %v", got, resilience.StateClosed)
		}
	})
}

// TestBreakerCallerCancellationNeverTrips: 1,000 calls whose caller gave up
// (cancelled, or its own deadline passed) leave the breaker closed.
func TestBreakerCallerCancellationNeverTrips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		b := mustBreaker(t, "dep", resilience.BreakerConfig{ConsecutiveFailures: 1}, resilience.WithRegisterer(reg))
		for i := range 1000 {
			var ctx context.Context
			var cancel context.CancelFunc
			if i%2 == 0 {
				ctx, cancel = context.WithCancel(t.Context())
				cancel()
			} else {
				ctx, cancel = context.WithTimeout(t.Context(), time.Millisecond)
			}
			err := b.Do(ctx, func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			})
			cancel()
			if err == nil || errors.Is(err, resilience.ErrOpen) {
				t.Fatalf("call %d: got %v, want the context's error", i, err)
			}
		}
		if got := b.State(); got != resilience.StateClosed {
			t.Fatalf("state got %v, want %v", got, resilience.StateClosed)
		}
		if _, _, failures, ignored := b.Counts(); failures != 0 || ignored != 1000 {
			t.Fatalf("failures, ignored got %d, %d, want 0, 1000", failures, ignored)
		}
		if got := testutil.ToFloat64(resultsCounter(t, reg, "dep", "ignored")); got != 1000 {
			t.Fatalf("ignored results got %v, want 1000", got)
		}
		// A context.Canceled that is not the caller's is ignored too; a
		// plain failure trips (ConsecutiveFailures 1).
		_ = b.Do(t.Context(), func(context.Context) error { return context.Canceled })
		if got := b.State(); got != resilience.StateClosed {
			t.Fatalf("state got %v, want %v", got, resilience.StateClosed)
		}
		_ = b.Do(t.Context(), fail)
		if got := b.State(); got != resilience.StateOpen {
			t.Fatalf("state got %v, want %v", got, resilience.StateOpen)
		}
	})
}

// resultsCounter gathers paved_breaker_results_total{name,result} from reg.
func resultsCounter(t *testing.T, reg *prometheus.Registry, name, result string) prometheus.Collector {
	t.Helper()
	return gathered{t: t, reg: reg, metric: "paved_breaker_results_total", labels: map[string]string{"name": name, "result": result}}
}

// gathered is a Collector that re-exposes one series of a registry, so
// testutil.ToFloat64 can read it.
type gathered struct {
	t      *testing.T
	reg    *prometheus.Registry
	metric string
	labels map[string]string
}

func (g gathered) Describe(ch chan<- *prometheus.Desc) {
	ch <- prometheus.NewDesc(g.metric, "copy", nil, nil)
}

func (g gathered) Collect(ch chan<- prometheus.Metric) {
	v, ok := seriesValue(g.reg, g.metric, g.labels)
	if !ok {
		g.t.Errorf("series %s%v not found", g.metric, g.labels)
	}
	ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.metric, "copy", nil, nil), prometheus.UntypedValue, v)
}

func seriesValue(reg *prometheus.Registry, metric string, labels map[string]string) (float64, bool) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, false
	}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			}
		}
	}
	return 0, false
}

// TestBreakerConcurrentCountsExact: 64 goroutines × 100,000 calls under
// -race; the breaker's counts and metrics equal what was injected.
func TestBreakerConcurrentCountsExact(t *testing.T) {
	goroutines, calls := 64, 100_000
	if testing.Short() {
		calls = 2_000
	}
	errIgnore := errors.New("ignore me")
	reg := prometheus.NewPedanticRegistry()
	b := mustBreaker(t, "dep", resilience.BreakerConfig{
		ConsecutiveFailures: math.MaxUint32, FailureRatio: -1, Interval: -1,
	}, resilience.WithRegisterer(reg), resilience.WithClassifier(func(err error) resilience.Outcome {
		if err == errIgnore {
			return resilience.Ignored
		}
		return resilience.Failure
	}))
	var wg sync.WaitGroup
	var ran atomic.Int64
	ctx := context.Background()
	okFn := func(context.Context) error { ran.Add(1); return nil }
	failFn := func(context.Context) error { ran.Add(1); return errBoom }
	ignFn := func(context.Context) error { ran.Add(1); return errIgnore }
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				var err error
				switch (g + i) % 4 {
				case 0, 1:
					err = b.Do(ctx, okFn)
				case 2:
					err = b.Do(ctx, failFn)
				case 3:
					err = b.Do(ctx, ignFn)
				}
				if errors.Is(err, resilience.ErrOpen) {
					t.Errorf("call refused: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := uint32(goroutines * calls)
	req, succ, fails, ign := b.Counts()
	if req != total || succ != total/2 || fails != total/4 || ign != total/4 {
		t.Fatalf("requests, successes, failures, ignored got %d, %d, %d, %d, want %d, %d, %d, %d",
			req, succ, fails, ign, total, total/2, total/4, total/4)
	}
	if got := ran.Load(); got != int64(total) {
		t.Fatalf("calls run got %d, want %d", got, total)
	}
	for result, want := range map[string]uint32{"success": total / 2, "failure": total / 4, "ignored": total / 4, "rejected": 0} {
		if got, _ := seriesValue(reg, "paved_breaker_results_total", map[string]string{"name": "dep", "result": result}); got != float64(want) {
			t.Errorf("results{%s} got %v, want %v", result, got, want)
		}
	}
}

// TestBreakerConcurrentRejectionsExact: 64 goroutines call an open breaker;
// every call is refused, none runs, and the rejections are counted exactly.
func TestBreakerConcurrentRejectionsExact(t *testing.T) {
	goroutines, calls := 64, 10_000
	if testing.Short() {
		calls = 500
	}
	reg := prometheus.NewPedanticRegistry()
	b := mustBreaker(t, "dep", resilience.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Hour}, resilience.WithRegisterer(reg))
	_ = b.Do(context.Background(), fail)
	var ran, refused atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range calls {
				if err := b.Do(context.Background(), func(context.Context) error { ran.Add(1); return nil }); errors.Is(err, resilience.ErrOpen) {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	total := int64(goroutines * calls)
	if got := refused.Load(); got != total || ran.Load() != 0 {
		t.Fatalf("refused, ran got %d, %d, want %d, 0", got, ran.Load(), total)
	}
	for result, want := range map[string]int64{"success": 0, "failure": 1, "ignored": 0, "rejected": total} {
		if got, _ := seriesValue(reg, "paved_breaker_results_total", map[string]string{"name": "dep", "result": result}); got != float64(want) {
			t.Errorf("results{%s} got %v, want %v", result, got, want)
		}
	}
}

// TestBreakerHalfOpenAdmitsExactlyMaxRequests: of 200 concurrent callers in
// half-open, exactly HalfOpenMaxRequests get through.
func TestBreakerHalfOpenAdmitsExactlyMaxRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxReq = 5
		b := mustBreaker(t, "dep", resilience.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Second, HalfOpenMaxRequests: maxReq})
		_ = b.Do(t.Context(), fail)
		time.Sleep(time.Second + time.Nanosecond)
		release := make(chan struct{})
		var admitted, refused atomic.Int32
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				err := b.Do(t.Context(), func(context.Context) error {
					admitted.Add(1)
					<-release
					return nil
				})
				var oe *resilience.OpenError
				if errors.As(err, &oe) {
					if !oe.HalfOpen {
						t.Errorf("got %+v, want a half-open refusal", oe)
					}
					refused.Add(1)
				}
			})
		}
		synctest.Wait()
		if got := admitted.Load(); got != maxReq {
			t.Fatalf("admitted got %d, want %d", got, maxReq)
		}
		if got := refused.Load(); got != 200-maxReq {
			t.Fatalf("refused got %d, want %d", got, 200-maxReq)
		}
		close(release)
		wg.Wait()
		if got := b.State(); got != resilience.StateClosed {
			t.Fatalf("state got %v, want %v", got, resilience.StateClosed)
		}
	})
}

// TestBreakerHungProbeTimesOut: a probe that hangs is cut by ProbeTimeout
// and reopens the breaker instead of keeping it half-open.
func TestBreakerHungProbeTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustBreaker(t, "dep", resilience.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Second, ProbeTimeout: 2 * time.Second})
		_ = b.Do(t.Context(), fail)
		time.Sleep(time.Second + time.Nanosecond)
		start := time.Now()
		err := b.Do(t.Context(), func(ctx context.Context) error {
			<-ctx.Done() // hangs until its deadline
			return ctx.Err()
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("probe got %v, want %v", err, context.DeadlineExceeded)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Fatalf("probe ran %v, want %v", got, 2*time.Second)
		}
		if got := b.State(); got != resilience.StateOpen {
			t.Fatalf("state got %v, want %v", got, resilience.StateOpen)
		}
		// Closed-state calls have no probe timeout.
		time.Sleep(time.Second + time.Nanosecond)
		_ = b.Do(t.Context(), succeed)
		err = b.Do(t.Context(), func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); ok {
				return errors.New("closed-state call has a deadline")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestBreakerMetricsAndLog: state gauge, transitions, one log record per
// transition, and metrics that pass the linter.
func TestBreakerMetricsAndLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		var logs recordingHandler
		b := mustBreaker(t, "inventory", resilience.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Second},
			resilience.WithRegisterer(reg), resilience.WithLogger(newLogger(&logs)))
		gauge := func() float64 {
			v, ok := seriesValue(reg, "paved_breaker_state", map[string]string{"name": "inventory"})
			if !ok {
				t.Fatal("paved_breaker_state not found")
			}
			return v
		}
		if got := gauge(); got != 0 {
			t.Fatalf("state gauge got %v, want 0", got)
		}
		_ = b.Do(t.Context(), fail)
		_ = b.Do(t.Context(), fail)
		if got := gauge(); got != 2 {
			t.Fatalf("state gauge got %v, want 2", got)
		}
		_ = b.Do(t.Context(), succeed) // rejected
		time.Sleep(time.Second + time.Nanosecond)
		if got := gauge(); got != 1 {
			t.Fatalf("state gauge got %v, want 1", got)
		}
		_ = b.Do(t.Context(), succeed)
		if got := gauge(); got != 0 {
			t.Fatalf("state gauge got %v, want 0", got)
		}
		for _, tr := range [][2]string{{"closed", "open"}, {"open", "half-open"}, {"half-open", "closed"}} {
			if got, _ := seriesValue(reg, "paved_breaker_transitions_total", map[string]string{"name": "inventory", "from": tr[0], "to": tr[1]}); got != 1 {
				t.Errorf("transitions{%s→%s} got %v, want 1", tr[0], tr[1], got)
			}
		}
		if got, _ := seriesValue(reg, "paved_breaker_results_total", map[string]string{"name": "inventory", "result": "rejected"}); got != 1 {
			t.Errorf("rejected got %v, want 1", got)
		}
		want := []string{"closed→open", "open→half-open", "half-open→closed"}
		if got := logs.transitions(); !equal(got, want) {
			t.Fatalf("logged transitions got %v, want %v", got, want)
		}
		problems, err := testutil.GatherAndLint(reg)
		if err != nil || len(problems) != 0 {
			t.Fatalf("lint got %v %v, want none", problems, err)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBreakerHungProbeReleasesBreaker: a half-open probe that ignores its context and
// hangs releases the breaker at ProbeTimeout (counted a failure: the breaker reopens
// and, after OpenTimeout, admits a new probe) instead of holding the half-open slot
// until it returns; its caller still gets the probe's own result when it does.
func TestBreakerHungProbeReleasesBreaker(t *testing.T) {
	tests := []struct {
		name         string
		probeTimeout time.Duration
		maxRequests  uint32
	}{
		{"one probe", 2 * time.Second, 1},
		{"three probes", 500 * time.Millisecond, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reg := prometheus.NewPedanticRegistry()
				b := mustBreaker(t, "dep", resilience.BreakerConfig{
					ConsecutiveFailures: 1, OpenTimeout: time.Second, ProbeTimeout: tt.probeTimeout, HalfOpenMaxRequests: tt.maxRequests,
				}, resilience.WithRegisterer(reg))
				_ = b.Do(t.Context(), fail)
				time.Sleep(time.Second + time.Nanosecond)
				release := make(chan struct{})
				errHung := errors.New("hung probe's own error")
				start := time.Now()
				done := make(chan error, 1)
				go func() {
					done <- b.Do(t.Context(), func(context.Context) error { <-release; return errHung }) // ignores ctx
				}()
				time.Sleep(tt.probeTimeout - time.Millisecond)
				if got := b.State(); got != resilience.StateHalfOpen {
					t.Fatalf("1ms before the probe timeout: state got %v, want %v", got, resilience.StateHalfOpen)
				}
				time.Sleep(time.Millisecond)
				synctest.Wait()
				if got := b.State(); got != resilience.StateOpen {
					t.Fatalf("at the probe timeout (%v after the probe started): state got %v, want %v", time.Since(start), got, resilience.StateOpen)
				}
				if got, _ := seriesValue(reg, "paved_breaker_results_total", map[string]string{"name": "dep", "result": "failure"}); got != 2 {
					t.Errorf("failures got %v, want 2 (the trip and the hung probe)", got)
				}
				// After OpenTimeout a new probe gets through and closes the breaker,
				// while the hung one still hangs.
				time.Sleep(time.Second + time.Nanosecond)
				for range tt.maxRequests {
					if err := b.Do(t.Context(), succeed); err != nil {
						t.Fatalf("new probe got %v, want nil", err)
					}
				}
				if got := b.State(); got != resilience.StateClosed {
					t.Fatalf("after new probes: state got %v, want %v", got, resilience.StateClosed)
				}
				select {
				case err := <-done:
					t.Fatalf("hung probe returned %v before it was released", err)
				default:
				}
				close(release)
				if err := <-done; err != errHung {
					t.Fatalf("hung probe's caller got %v, want %v", err, errHung)
				}
				// Its late result counts nowhere: the breaker moved on.
				if got := b.State(); got != resilience.StateClosed {
					t.Fatalf("after the hung probe returned: state got %v, want %v", got, resilience.StateClosed)
				}
			})
		})
	}
}

// TestBreakerProbePanicCountsFailure: a half-open probe that panics reopens the
// breaker, and the panic reaches the caller.
func TestBreakerProbePanicCountsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := mustBreaker(t, "dep", resilience.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Second})
		_ = b.Do(t.Context(), fail)
		time.Sleep(time.Second + time.Nanosecond)
		func() {
			defer func() {
				if p := recover(); p != "probe panic" {
					t.Errorf("recovered %v, want the probe's panic", p)
				}
			}()
			_ = b.Do(t.Context(), func(context.Context) error { panic("probe panic") })
		}()
		if got := b.State(); got != resilience.StateOpen {
			t.Fatalf("state got %v, want %v", got, resilience.StateOpen)
		}
	})
}
