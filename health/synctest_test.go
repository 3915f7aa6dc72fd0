package health_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paved-road/paved/health"
)

func TestSingleFlightAndCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		reg, _ := health.New(health.Options{})
		defer reg.Close()
		must(t, reg.Register(health.Check{Name: "db", CacheTTL: 2 * time.Second, Check: func(ctx context.Context) error {
			calls.Add(1)
			time.Sleep(100 * time.Millisecond)
			return nil
		}}))
		reg.MarkStarted()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				rep, _ := reg.Evaluate(context.Background(), health.Readiness)
				if rep.Status != health.StatusPass {
					t.Errorf("got %s, want pass", rep.Status)
				}
			})
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("calls after 50 concurrent probes: got %d, want 1", n)
		}
		time.Sleep(1500 * time.Millisecond) // within the 2 s cache
		reg.Evaluate(context.Background(), health.Readiness)
		if n := calls.Load(); n != 1 {
			t.Errorf("calls within the cache period: got %d, want 1", n)
		}
		time.Sleep(time.Second) // cache expired
		reg.Evaluate(context.Background(), health.Readiness)
		if n := calls.Load(); n != 2 {
			t.Errorf("calls after the cache period: got %d, want 2", n)
		}
	})
}

func TestProbeContextEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _ := health.New(health.Options{})
		defer reg.Close()
		must(t, reg.Register(health.Check{Name: "slow", Timeout: 10 * time.Second, Check: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}))
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		rep, _ := reg.Evaluate(ctx, health.Readiness)
		if d := time.Since(start); d != 500*time.Millisecond {
			t.Errorf("probe took %v, want 500ms (its own deadline, before the probe wait)", d)
		}
		if c := rep.Checks[len(rep.Checks)-1]; c.Status != health.StatusFail {
			t.Errorf("got %s, want fail", c.Status)
		}
	})
}

func TestPeriodicChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		var failing atomic.Bool
		reg, _ := health.New(health.Options{})
		must(t, reg.Register(health.Check{Name: "bg", Period: 10 * time.Second, Check: func(ctx context.Context) error {
			calls.Add(1)
			if failing.Load() {
				return errors.New("down")
			}
			return nil
		}}))
		reg.MarkStarted()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- reg.Run(ctx) }()
		synctest.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("calls at start: got %d, want 1", n)
		}
		if err := reg.Run(ctx); !errors.Is(err, health.ErrRunning) {
			t.Errorf("second Run: got %v, want %v", err, health.ErrRunning)
		}
		for range 100 { // probes read the last result
			reg.Evaluate(context.Background(), health.Readiness)
		}
		time.Sleep(35 * time.Second)
		synctest.Wait()
		if n := calls.Load(); n != 4 { // t=0,10,20,30
			t.Errorf("calls after 35s: got %d, want 4", n)
		}
		failing.Store(true)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := reg.Status(health.Readiness); st != health.StatusFail {
			t.Errorf("status after a failing run: got %s, want fail", st)
		}
		// A periodic check registered while Run runs is picked up.
		var late atomic.Int32
		must(t, reg.Register(health.Check{Name: "late", Period: time.Minute, Check: func(context.Context) error { late.Add(1); return nil }}))
		synctest.Wait()
		if n := late.Load(); n != 1 {
			t.Errorf("late check calls: got %d, want 1", n)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
		reg.Close()
		if err := reg.Run(context.Background()); !errors.Is(err, health.ErrRunning) {
			t.Errorf("Run after Close: got %v, want %v", err, health.ErrRunning)
		}
	})
}

func TestCloseCancelsChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg, _ := health.New(health.Options{})
		var cancelled atomic.Bool
		must(t, reg.Register(health.Check{Name: "slow", Timeout: time.Hour, Check: func(ctx context.Context) error {
			<-ctx.Done()
			cancelled.Store(true)
			return ctx.Err()
		}}))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		reg.Evaluate(ctx, health.Readiness) // leaves the run in flight
		reg.Close()
		if !cancelled.Load() {
			t.Errorf("got the check still running after Close, want it cancelled and waited for")
		}
		var calls atomic.Int32
		must(t, reg.Register(health.Check{Name: "after", Check: func(context.Context) error { calls.Add(1); return nil }}))
		reg.Evaluate(context.Background(), health.Readiness)
		if n := calls.Load(); n != 0 {
			t.Errorf("calls after Close: got %d, want 0", n)
		}
	})
}

func TestWatchLatestOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failing atomic.Bool
		reg, _ := health.New(health.Options{})
		defer reg.Close()
		must(t, reg.Register(health.Check{Name: "bg", Period: time.Second, Check: func(context.Context) error {
			if failing.Load() {
				return errors.New("down")
			}
			return nil
		}}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch := reg.Watch(ctx, health.Readiness)
		one, err := reg.WatchCheck(ctx, health.Readiness, "bg")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.WatchCheck(ctx, health.Liveness, "bg"); !errors.Is(err, health.ErrUnknownCheck) {
			t.Errorf("got %v, want %v", err, health.ErrUnknownCheck)
		}
		if got := <-ch; got != health.StatusFail {
			t.Errorf("initial: got %s, want fail (not started, not run)", got)
		}
		if got := <-one; got != health.StatusFail {
			t.Errorf("initial check: got %s, want fail (not run)", got)
		}
		done := make(chan error, 1)
		go func() { done <- reg.Run(ctx) }()
		synctest.Wait()
		if got := <-one; got != health.StatusPass {
			t.Errorf("check after first run: got %s, want pass", got)
		}
		reg.MarkStarted()
		if got := <-ch; got != health.StatusPass {
			t.Errorf("after MarkStarted: got %s, want pass", got)
		}
		// Several flips without reading: only the latest is delivered.
		reg.Shutdown()
		reg.Resume()
		failing.Store(true)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := <-ch; got != health.StatusFail {
			t.Errorf("after flips: got %s, want fail", got)
		}
		select {
		case st := <-ch:
			t.Errorf("got a stale extra value %s, want none", st)
		default:
		}
		cancel()
		<-done
		if _, open := <-ch; open {
			t.Errorf("got the channel open after ctx ended, want closed")
		}
	})
}

// recordingHandler counts log records by message.
type recordingHandler struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs[r.Message]++
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }
func (h *recordingHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.msgs[msg]
}

func TestStateChangesLoggedOnceAndMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &recordingHandler{msgs: map[string]int{}}
		promReg := prometheus.NewPedanticRegistry()
		reg, err := health.New(health.Options{Logger: slog.New(logs), Registerer: promReg})
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Close()
		var failing atomic.Bool
		must(t, reg.Register(health.Check{Name: "db", Kinds: health.Readiness | health.Startup, CacheTTL: time.Second, Check: func(context.Context) error {
			if failing.Load() {
				return errors.New("connection refused")
			}
			return nil
		}}))
		status := func(kind string) float64 {
			return promStatus(t, promReg, "db", kind)
		}
		probeN := func(n int) {
			for range n {
				reg.Evaluate(context.Background(), health.Readiness)
				time.Sleep(1100 * time.Millisecond) // past the cache: every probe runs the check
			}
		}
		probeN(5)
		if s, u := status("readiness"), status("startup"); s != 1 || u != 1 {
			t.Errorf("status while passing: got %v %v, want 1 1", s, u)
		}
		failing.Store(true)
		probeN(5)
		if s := status("readiness"); s != 0 {
			t.Errorf("status while failing: got %v, want 0", s)
		}
		failing.Store(false)
		probeN(5)
		if n := logs.count("health: check failing"); n != 1 {
			t.Errorf("failing logs over 5 failed runs: got %d, want 1", n)
		}
		if n := logs.count("health: check recovered"); n != 1 {
			t.Errorf("recovered logs: got %d, want 1", n)
		}
		if n := testutil.CollectAndCount(promReg, "paved_health_check_duration_seconds"); n != 1 {
			t.Errorf("duration series: got %d, want 1", n)
		}
		if _, err := promReg.Gather(); err != nil { // the pedantic registry checks consistency
			t.Errorf("gather: %v", err)
		}
		// A second registry on the same Registerer reuses the collectors.
		if _, err := health.New(health.Options{Registerer: promReg}); err != nil {
			t.Errorf("second New on the same registerer: got %v, want nil", err)
		}
	})
}

// promStatus returns the value of paved_health_check_status{check,kind}.
func promStatus(t *testing.T, g prometheus.Gatherer, check, kind string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "paved_health_check_status" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["check"] == check && labels["kind"] == kind {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no paved_health_check_status{check=%q,kind=%q}", check, kind)
	return 0
}

// TestStopIsNotAFailure: a periodic run cut short by Run's end is not recorded as the
// check failing.
func TestStopIsNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &recordingHandler{msgs: map[string]int{}}
		reg, _ := health.New(health.Options{Logger: slog.New(logs)})
		defer reg.Close()
		var calls atomic.Int32
		must(t, reg.Register(health.Check{Name: "bg", Period: time.Minute, Timeout: 30 * time.Second, Check: func(ctx context.Context) error {
			if calls.Add(1) == 1 {
				return nil
			}
			<-ctx.Done() // the second run is still going when Run ends
			return ctx.Err()
		}}))
		reg.MarkStarted()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- reg.Run(ctx) }()
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		cancel()
		<-done
		if st := reg.Status(health.Readiness); st != health.StatusPass {
			t.Errorf("after Run ended mid-check: got %s, want pass (the last real result)", st)
		}
		if n := logs.count("health: check failing"); n != 0 {
			t.Errorf("failing logs: got %d, want 0", n)
		}
	})
}

// TestProbeAnswersBeforeKubeletTimeout: a probe answers within DefaultProbeWait
// (800 ms), inside the kubelet's default timeoutSeconds of 1 and grpc-health-probe's
// -rpc-timeout=1s, whatever the check timeouts: a check still running then is reported
// failed, saying so, and its run goes on to record its own result.
func TestProbeAnswersBeforeKubeletTimeout(t *testing.T) {
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name     string
		opts     health.Options
		check    health.Check
		want     time.Duration // the probe's answer time
		wantCode int
		wantText string
	}{
		{"hanging check, default timeout", health.Options{},
			health.Check{Name: "slow", Check: hang}, 800 * time.Millisecond, 503,
			`[-]slow failed: health: check "slow" still running after 800ms`},
		{"hanging check, long timeout", health.Options{},
			health.Check{Name: "slow", Timeout: 10 * time.Second, Check: hang}, 800 * time.Millisecond, 503,
			`[-]slow failed: health: check "slow" still running after 800ms`},
		{"check done at 799ms", health.Options{},
			health.Check{Name: "slow", Check: func(context.Context) error { time.Sleep(799 * time.Millisecond); return nil }},
			799 * time.Millisecond, 200, "[+]slow ok"},
		{"ProbeWait set", health.Options{ProbeWait: 300 * time.Millisecond},
			health.Check{Name: "slow", Check: hang}, 300 * time.Millisecond, 503,
			`[-]slow failed: health: check "slow" still running after 300ms`},
		{"ProbeWait negative waits for the check timeout", health.Options{ProbeWait: -1},
			health.Check{Name: "slow", Check: hang}, time.Second, 503,
			`[-]slow failed: health: check "slow" timed out after 1s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := tt.opts
				opts.ShowDetails = true
				reg, _ := health.New(opts)
				defer reg.Close()
				c := tt.check
				c.CacheTTL = time.Minute // the recorded result stays fresh for the last step
				must(t, reg.Register(c))
				reg.MarkStarted()
				h := reg.Handler()
				start := time.Now()
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz?verbose", nil))
				if got := time.Since(start); got != tt.want {
					t.Errorf("answered after %v, want %v", got, tt.want)
				}
				if w.Code != tt.wantCode || !strings.Contains(w.Body.String(), tt.wantText) {
					t.Errorf("got %d\n%s\nwant %d with %q", w.Code, w.Body.String(), tt.wantCode, tt.wantText)
				}
				// The run goes on: at its timeout the next probe reads its result.
				time.Sleep(tt.check.Timeout + time.Second)
				synctest.Wait()
				rep, _ := reg.Evaluate(t.Context(), health.Readiness)
				if c := rep.Checks[len(rep.Checks)-1]; tt.wantCode == 503 && !strings.Contains(fmt.Sprint(c.Err), "timed out") {
					t.Errorf("after the run: got %v, want its timeout recorded", c.Err)
				}
			})
		})
	}
}

// TestReadyzStormSixtySeconds: /readyz at 5,000 requests a second for 60 s of fake
// time against 3 on-demand checks cached for 1 s (each dependency answers in 5 ms):
// every probe passes, each dependency is called at most once per cache period, and
// the goroutine count stays flat (sampled every second).
func TestReadyzStormSixtySeconds(t *testing.T) {
	const (
		rate     = 5000 // requests a second
		duration = 60 * time.Second
		perTick  = rate / 1000 // one tick a millisecond
	)
	synctest.Test(t, func(t *testing.T) {
		reg, _ := health.New(health.Options{})
		defer reg.Close()
		var calls [3]atomic.Int64
		for i := range calls {
			must(t, reg.Register(health.Check{
				Name: fmt.Sprintf("dep%d", i), Dependency: "dep", CacheTTL: time.Second,
				Check: func(context.Context) error {
					calls[i].Add(1)
					time.Sleep(5 * time.Millisecond)
					return nil
				},
			}))
		}
		reg.MarkStarted()
		h := reg.Handler()
		req := httptest.NewRequest("GET", "/readyz", nil)
		var failed, served atomic.Int64
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		baseline, peak := -1, 0
		for i := 0; time.Since(start) < duration; i++ {
			<-tick.C
			for range perTick {
				wg.Go(func() {
					w := &discardWriter{h: http.Header{}}
					h.ServeHTTP(w, req)
					served.Add(1)
					if w.code != http.StatusOK {
						failed.Add(1)
					}
				})
			}
			if i%1000 == 999 {
				synctest.Wait() // the second's probes are answered, or waiting on a run
				n := runtime.NumGoroutine()
				if baseline < 0 {
					baseline = n
				}
				peak = max(peak, n)
			}
		}
		wg.Wait()
		if got, want := served.Load(), int64(rate*duration/time.Second); got != want {
			t.Errorf("probes served got %d, want %d", got, want)
		}
		if n := failed.Load(); n != 0 {
			t.Errorf("failed probes got %d, want 0", n)
		}
		periods := int64(duration / time.Second)
		for i := range calls {
			if n := calls[i].Load(); n < periods-2 || n > periods+1 {
				t.Errorf("dep%d calls over %v got %d, want at most one per cache period (%d..%d)", i, duration, n, periods-2, periods+1)
			}
		}
		if peak > baseline+8 {
			t.Errorf("goroutines: peak %d, first sample %d, want flat", peak, baseline)
		}
		t.Logf("%d probes; dependency calls %d %d %d; goroutines %d..%d", served.Load(), calls[0].Load(), calls[1].Load(), calls[2].Load(), baseline, peak)
	})
}
