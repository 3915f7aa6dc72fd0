package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
)

// call is one call a recordingRegistrar received.
type call struct {
	op       string // register, heartbeat, deregister
	at       time.Time
	status   discovery.Status
	metadata map[string]string
}

// recordingRegistrar is a FAKE registrar that records calls (at the bubble's virtual
// time) and fails on demand, over a real in-memory static.Registry.
type recordingRegistrar struct {
	reg static.Registry

	mu    sync.Mutex
	calls []call
	fail  error // returned by every call while set
}

func (r *recordingRegistrar) record(op string, inst discovery.Instance) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{op: op, at: time.Now(), status: inst.Status, metadata: inst.Metadata})
	return r.fail
}

func (r *recordingRegistrar) Register(ctx context.Context, inst discovery.Instance) error {
	if err := r.record("register", inst); err != nil {
		return err
	}
	return r.reg.Register(ctx, inst)
}

func (r *recordingRegistrar) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	if err := r.record("heartbeat", inst); err != nil {
		return err
	}
	return r.reg.Heartbeat(ctx, inst)
}

func (r *recordingRegistrar) Deregister(ctx context.Context, inst discovery.Instance) error {
	if err := r.record("deregister", inst); err != nil {
		return err
	}
	return r.reg.Deregister(ctx, inst)
}

func (r *recordingRegistrar) setFail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

func (r *recordingRegistrar) ops(op string) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

func testInstance() discovery.Instance {
	return discovery.Instance{
		ID: "orders-1", Service: "orders", Version: "1.0.0",
		Addresses: discovery.Addresses{HTTP: "127.0.0.1:8080"}, Status: discovery.StatusPassing,
	}
}

// runAgent starts a.Run in the bubble and returns a function that stops it and returns
// Run's error.
func runAgent(t *testing.T, a *discovery.Agent) func() error {
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	return func() error { cancel(); return <-errc }
}

func TestAgentHeartbeatsEveryThirdOfTTLCarryingReadiness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		var mu sync.Mutex
		ready := discovery.StatusPassing
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(30*time.Second),
			discovery.WithJitter(func(max time.Duration) time.Duration { return max * 3 / 10 }),
			discovery.WithReadiness(func() discovery.Status { mu.Lock(); defer mu.Unlock(); return ready }))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := runAgent(t, a)
		synctest.Wait()
		if got := a.State(); got != discovery.StateRegistered {
			t.Fatalf("State: got %v, want %v", got, discovery.StateRegistered)
		}
		time.Sleep(35 * time.Second)
		synctest.Wait()
		mu.Lock()
		ready = discovery.StatusCritical
		mu.Unlock()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Run: got %v, want context.Canceled", err)
		}
		hb := rec.ops("heartbeat")
		if len(hb) != 4 {
			t.Fatalf("heartbeats in 45 s: got %d, want 4", len(hb))
		}
		// The first after 10 s less the jitter (3 s), then every 10 s.
		for i, c := range hb {
			if got, want := c.at.Sub(start), time.Duration(i+1)*10*time.Second-3*time.Second; got != want {
				t.Errorf("heartbeat %d at: got %v, want %v", i, got, want)
			}
		}
		if hb[2].status != discovery.StatusPassing || hb[3].status != discovery.StatusCritical {
			t.Errorf("heartbeat statuses: got %v then %v, want passing then critical", hb[2].status, hb[3].status)
		}
		if got, _ := rec.reg.Lookup("orders", "orders-1"); got.Status != discovery.StatusCritical {
			t.Errorf("registry status: got %v, want critical", got.Status)
		}
	})
}

func TestAgentRetriesRegistrationWithBackoffForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		rec.setFail(errors.New("connection refused"))
		var maxes []time.Duration
		var mu sync.Mutex
		jitter := func(max time.Duration) time.Duration { // the ceiling itself, minus 1 ns: the worst case
			mu.Lock()
			maxes = append(maxes, max)
			mu.Unlock()
			return max - 1
		}
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(30*time.Second), discovery.WithJitter(jitter))
		if err != nil {
			t.Fatal(err)
		}
		stop := runAgent(t, a)
		defer stop()
		time.Sleep(time.Hour) // down for an hour: the agent keeps trying
		synctest.Wait()
		if got := a.State(); got != discovery.StateFailing {
			t.Errorf("State while down: got %v, want %v", got, discovery.StateFailing)
		}
		n := len(rec.ops("register"))
		if n < 350 { // ~3600 s / 10 s ceiling
			t.Errorf("register attempts in an hour: got %d, want at least 350", n)
		}
		mu.Lock()
		wantCeil := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
		for i, w := range wantCeil {
			if maxes[i] != w {
				t.Errorf("backoff ceiling %d: got %v, want %v", i, maxes[i], w)
			}
		}
		mu.Unlock()
		// The registry comes back: registered at the next attempt, within the interval.
		rec.setFail(nil)
		back := time.Now()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := a.State(); got != discovery.StateRegistered {
			t.Errorf("State after the registry came back: got %v, want %v", got, discovery.StateRegistered)
		}
		regs := rec.ops("register")
		if last := regs[len(regs)-1]; last.at.Sub(back) > 10*time.Second {
			t.Errorf("registered %v after the registry came back, want within the 10 s interval", last.at.Sub(back))
		}
	})
}

func TestAgentReregistersAfterUnknownInstanceWithJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(30*time.Second),
			discovery.WithJitter(func(max time.Duration) time.Duration { return max / 4 }))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := runAgent(t, a)
		defer stop()
		synctest.Wait()
		rec.reg.Forget("orders", "orders-1") // the registry restarted empty
		time.Sleep(8 * time.Second)          // the first heartbeat (at 7.5 s) finds out
		synctest.Wait()
		if got := a.State(); got != discovery.StateRegistering {
			t.Errorf("State after unknown instance: got %v, want %v", got, discovery.StateRegistering)
		}
		if !errors.Is(a.Err(), discovery.ErrUnknownInstance) {
			t.Errorf("Err: got %v, want discovery.ErrUnknownInstance", a.Err())
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		regs := rec.ops("register")
		if len(regs) != 2 {
			t.Fatalf("registrations: got %d, want 2", len(regs))
		}
		// Heartbeat at 7.5 s (the 10 s interval less a quarter of it, the jitter given),
		// then a quarter of the 10 s re-registration window.
		if got, want := regs[1].at.Sub(start), 10*time.Second; got != want {
			t.Errorf("re-registration at: got %v, want %v", got, want)
		}
		if _, ok := rec.reg.Lookup("orders", "orders-1"); !ok || a.State() != discovery.StateRegistered {
			t.Errorf("after re-registration: in registry %v, state %v, want true, registered", ok, a.State())
		}
	})
}

// TestAgentsReregisteringSpreadOut: after a registry restart, 100 agents with the default
// random jitter do not re-register at the same instant; all do within one interval.
func TestAgentsReregisteringSpreadOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		const n = 100
		var stops []func() error
		for i := range n {
			inst := testInstance()
			inst.ID = fmt.Sprintf("orders-%d", i)
			a, err := discovery.NewAgent(rec, inst, discovery.WithTTL(30*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			stops = append(stops, runAgent(t, a))
		}
		synctest.Wait()
		rec.reg.Forget("orders", "")
		restart := time.Now()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		seen := map[time.Time]bool{}
		var last time.Time
		for _, c := range rec.ops("register") {
			if c.at.After(restart) {
				seen[c.at] = true
				last = c.at
			}
		}
		if len(seen) < n/2 {
			t.Errorf("distinct re-registration instants: got %d, want at least %d", len(seen), n/2)
		}
		// Heartbeat at most 10 s after the restart, then a delay in [0, 10 s).
		if got := last.Sub(restart); got >= 20*time.Second {
			t.Errorf("last re-registration %v after the restart, want under 20 s", got)
		}
		for _, stop := range stops {
			stop()
		}
	})
}

// seededJitter is a deterministic WithJitter source shared by many agents.
func seededJitter(seed uint64) func(time.Duration) time.Duration {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func(max time.Duration) time.Duration {
		if max <= 0 {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(r.Int64N(int64(max)))
	}
}

// maxPerSecond returns the most instants of at that fall in one window [t, t+1 s).
func maxPerSecond(at []time.Time) int {
	slices.SortFunc(at, time.Time.Compare)
	best := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < time.Second; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

// TestFleetReregistersSpreadOut is issue #15's case: 100 agents started together, a
// registry that forgets everything at once. Heartbeats carry jitter from the first one,
// so the fleet re-registers spread over at least one heartbeat interval, and no
// one-second window holds more than a fifth of it.
func TestFleetReregistersSpreadOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		const n = 100
		jitter := seededJitter(15)
		var stops []func() error
		var interval time.Duration
		for i := range n {
			inst := testInstance()
			inst.ID = fmt.Sprintf("orders-%d", i)
			a, err := discovery.NewAgent(rec, inst, discovery.WithJitter(jitter)) // the default 30 s TTL
			if err != nil {
				t.Fatal(err)
			}
			interval = a.HeartbeatInterval()
			stops = append(stops, runAgent(t, a))
		}
		synctest.Wait()
		time.Sleep(time.Minute) // registered for a while, heartbeating
		synctest.Wait()
		rec.reg.Forget("orders", "")
		forgot := time.Now()
		time.Sleep(3 * interval)
		synctest.Wait()
		for _, stop := range stops {
			stop()
		}
		var at []time.Time
		for _, c := range rec.ops("register") {
			if c.at.After(forgot) {
				at = append(at, c.at)
			}
		}
		if len(at) != n {
			t.Fatalf("re-registrations: got %d, want %d", len(at), n)
		}
		slices.SortFunc(at, time.Time.Compare)
		spread := at[n-1].Sub(at[0])
		perSecond := maxPerSecond(at)
		t.Logf("%d re-registrations from %v to %v after the registry forgot them: spread %v, at most %d in one second",
			n, at[0].Sub(forgot), at[n-1].Sub(forgot), spread, perSecond)
		if spread < interval {
			t.Errorf("spread: got %v, want at least one heartbeat interval %v", spread, interval)
		}
		if perSecond > n/5 {
			t.Errorf("re-registrations in one second: got up to %d, want at most %d", perSecond, n/5)
		}
	})
}

func TestAgentDeregistersOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- a.Run(t.Context()) }()
		synctest.Wait()
		if err := a.Run(t.Context()); !errors.Is(err, discovery.ErrAgentRunning) {
			t.Errorf("second Run: got %v, want ErrAgentRunning", err)
		}
		if err := a.Deregister(t.Context()); err != nil {
			t.Fatalf("Deregister: got %v, want nil", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run after Deregister: got %v, want nil", err)
		}
		if err := a.Deregister(t.Context()); err != nil {
			t.Errorf("second Deregister: got %v, want nil", err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := len(rec.ops("deregister")); got != 1 {
			t.Errorf("deregister calls: got %d, want 1", got)
		}
		if got := len(rec.ops("heartbeat")); got != 0 {
			t.Errorf("heartbeats after Deregister: got %d, want 0", got)
		}
		if _, ok := rec.reg.Lookup("orders", "orders-1"); ok {
			t.Errorf("instance still registered after Deregister")
		}
		if got := a.State(); got != discovery.StateDeregistered {
			t.Errorf("State: got %v, want %v", got, discovery.StateDeregistered)
		}
		if err := a.Run(t.Context()); err != nil {
			t.Errorf("Run after Deregister: got %v, want nil at once", err)
		}
	})
}

func TestAgentDeregisterBeforeRegistrationCallsNothing(t *testing.T) {
	rec := &recordingRegistrar{}
	a, err := discovery.NewAgent(rec, testInstance())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Deregister(t.Context()); err != nil {
		t.Fatalf("Deregister: got %v, want nil", err)
	}
	if got := len(rec.calls); got != 0 {
		t.Errorf("registry calls: got %d, want 0", got)
	}
}

func TestAgentStateMetricAndLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		rec.setFail(errors.New("connection refused"))
		reg := prometheus.NewPedanticRegistry()
		var buf bytes.Buffer
		var bufMu sync.Mutex
		logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &bufMu}, nil))
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(3*time.Second),
			discovery.WithRegisterer(reg), discovery.WithLogger(logger))
		if err != nil {
			t.Fatal(err)
		}
		wantGauge := func(state discovery.State) {
			t.Helper()
			var b strings.Builder
			b.WriteString("# HELP paved_registration_state Registration state of this instance in the service registry: 1 for the current state, 0 for the others.\n# TYPE paved_registration_state gauge\n")
			for _, s := range []discovery.State{discovery.StateDeregistered, discovery.StateFailing, discovery.StateRegistered, discovery.StateRegistering, discovery.StateUnregistered} {
				v := 0
				if s == state {
					v = 1
				}
				fmt.Fprintf(&b, "paved_registration_state{state=%q} %d\n", s, v)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(b.String()), discovery.MetricRegistrationState); err != nil {
				t.Errorf("state %s: %v", state, err)
			}
		}
		wantGauge(discovery.StateUnregistered)
		stop := runAgent(t, a)
		time.Sleep(30 * time.Second) // many failed attempts
		synctest.Wait()
		wantGauge(discovery.StateFailing)
		rec.setFail(nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		wantGauge(discovery.StateRegistered)
		stop()
		if err := a.Deregister(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantGauge(discovery.StateDeregistered)

		bufMu.Lock()
		logs := buf.String()
		bufMu.Unlock()
		for _, s := range []discovery.State{discovery.StateRegistering, discovery.StateFailing, discovery.StateRegistered, discovery.StateDeregistered} {
			if got := strings.Count(logs, "state="+string(s)+" ") + strings.Count(logs, "state="+string(s)+"\n"); got != 1 {
				t.Errorf("log lines for state %s: got %d, want 1\n%s", s, got, logs)
			}
		}
		if attempts := len(rec.ops("register")); attempts < 10 {
			t.Errorf("register attempts: got %d, want at least 10 (logged once)", attempts)
		}
	})
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestNewAgentErrors(t *testing.T) {
	good := testInstance()
	bad := good
	bad.Service = "Orders"
	for _, tc := range []struct {
		name string
		reg  discovery.Registrar
		inst discovery.Instance
		opts []discovery.AgentOption
		want string
	}{
		{"nil registrar", nil, good, nil, "registrar is nil"},
		{"invalid instance", &static.Registry{}, bad, nil, `service must be a DNS label`},
		{"ttl too short", &static.Registry{}, good, []discovery.AgentOption{discovery.WithTTL(time.Millisecond)}, "TTL must be between 1s and 24h0m0s, got 1ms"},
		{"negative call timeout", &static.Registry{}, good, []discovery.AgentOption{discovery.WithCallTimeout(-1)}, "call timeout must be positive"},
	} {
		a, err := discovery.NewAgent(tc.reg, tc.inst, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, %v, want an error containing %q", tc.name, a, err, tc.want)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := discovery.NewAgent(&static.Registry{}, good, discovery.WithRegisterer(reg)); err != nil {
		t.Fatal(err)
	}
	if _, err := discovery.NewAgent(&static.Registry{}, good, discovery.WithRegisterer(reg)); err == nil || !strings.Contains(err.Error(), "paved_registration_state") {
		t.Errorf("second agent on one registry: got %v, want an error naming the metric", err)
	}
}

// TestAgentCallTimeout: a registry call that hangs is abandoned after the call timeout.
func TestAgentCallTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := registrarFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		a, err := discovery.NewAgent(hang, testInstance(), discovery.WithTTL(30*time.Second), discovery.WithCallTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		stop := runAgent(t, a)
		defer stop()
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		if got := a.State(); got != discovery.StateFailing || !errors.Is(a.Err(), context.DeadlineExceeded) {
			t.Errorf("after the call timeout: got %v (%v), want failing with context.DeadlineExceeded", got, a.Err())
		}
	})
}

type registrarFunc func(context.Context) error

func (f registrarFunc) Register(ctx context.Context, _ discovery.Instance) error  { return f(ctx) }
func (f registrarFunc) Heartbeat(ctx context.Context, _ discovery.Instance) error { return f(ctx) }
func (f registrarFunc) Deregister(ctx context.Context, _ discovery.Instance) error {
	return f(ctx)
}

func TestAgentRefreshHeartbeatsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		var mu sync.Mutex
		ready := discovery.StatusPassing
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(30*time.Second),
			discovery.WithJitter(func(max time.Duration) time.Duration { return max * 3 / 10 }),
			discovery.WithReadiness(func() discovery.Status { mu.Lock(); defer mu.Unlock(); return ready }))
		if err != nil {
			t.Fatal(err)
		}
		a.Refresh() // before registration: no extra heartbeat
		start := time.Now()
		stop := runAgent(t, a)
		defer stop()
		synctest.Wait()
		time.Sleep(3 * time.Second)
		mu.Lock()
		ready = discovery.StatusCritical
		mu.Unlock()
		a.Refresh()
		synctest.Wait()
		hb := rec.ops("heartbeat")
		if len(hb) != 1 || hb[0].at.Sub(start) != 3*time.Second || hb[0].status != discovery.StatusCritical {
			t.Fatalf("heartbeats: got %+v, want one at 3s carrying critical", hb)
		}
		time.Sleep(10 * time.Second) // the next regular heartbeat is an interval later
		synctest.Wait()
		hb = rec.ops("heartbeat")
		if len(hb) != 2 || hb[1].at.Sub(start) != 13*time.Second {
			t.Errorf("heartbeats: got %+v, want the second at 13s", hb)
		}
	})
}

func TestAgentBackoffOption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		rec.setFail(errors.New("down"))
		var ceilings []time.Duration
		var mu sync.Mutex
		a, err := discovery.NewAgent(rec, testInstance(), discovery.WithTTL(3*time.Second),
			discovery.WithBackoff(100*time.Millisecond),
			discovery.WithJitter(func(max time.Duration) time.Duration {
				mu.Lock()
				defer mu.Unlock()
				ceilings = append(ceilings, max)
				return max
			}))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.HeartbeatInterval(); got != time.Second {
			t.Errorf("HeartbeatInterval: got %v, want 1s", got)
		}
		stop := runAgent(t, a)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		stop()
		mu.Lock()
		defer mu.Unlock()
		want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
		for i, w := range want {
			if i >= len(ceilings) || ceilings[i] != w {
				t.Fatalf("ceilings: got %v, want to start with %v", ceilings, want)
			}
		}
	})
}

// TestAgentDeregisterTimeoutCanBeRetried: when Run is stuck in a registry call that
// ignores its context, Deregister's context bounds the wait, and a later Deregister
// finishes the job.
func TestAgentDeregisterTimeoutCanBeRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		deregistered := 0
		stuck := registrarFuncs{
			register: func(context.Context) error { <-release; return nil },
			deregister: func(context.Context) error {
				mu.Lock()
				deregistered++
				mu.Unlock()
				return nil
			},
		}
		a, err := discovery.NewAgent(stuck, testInstance())
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- a.Run(t.Context()) }()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := a.Deregister(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Deregister while stuck: got %v, want context.DeadlineExceeded", err)
		}
		close(release)
		if err := a.Deregister(t.Context()); err != nil {
			t.Errorf("second Deregister: got %v, want nil", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if deregistered != 1 {
			t.Errorf("deregister calls: got %d, want 1", deregistered)
		}
	})
}

type registrarFuncs struct {
	register, deregister func(context.Context) error
}

func (f registrarFuncs) Register(ctx context.Context, _ discovery.Instance) error {
	return f.register(ctx)
}
func (f registrarFuncs) Heartbeat(context.Context, discovery.Instance) error { return nil }
func (f registrarFuncs) Deregister(ctx context.Context, _ discovery.Instance) error {
	return f.deregister(ctx)
}

// WithMetadata's values ride on every registration and heartbeat, read right after the
// readiness, over the instance's own metadata, which the agent never changes.
func TestAgentMetadataSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingRegistrar{}
		var mu sync.Mutex
		failing := ""
		inst := testInstance()
		inst.Metadata = map[string]string{"environment": "production"}
		a, err := discovery.NewAgent(rec, inst, discovery.WithTTL(30*time.Second),
			discovery.WithReadiness(func() discovery.Status {
				mu.Lock()
				defer mu.Unlock()
				if failing != "" {
					return discovery.StatusCritical
				}
				return discovery.StatusPassing
			}),
			discovery.WithMetadata(func() map[string]string {
				mu.Lock()
				defer mu.Unlock()
				if failing == "" {
					return nil
				}
				return map[string]string{"failing_checks": failing}
			}))
		if err != nil {
			t.Fatal(err)
		}
		stop := runAgent(t, a)
		synctest.Wait()
		mu.Lock()
		failing = "db"
		mu.Unlock()
		a.Refresh()
		synctest.Wait()
		mu.Lock()
		failing = ""
		mu.Unlock()
		a.Refresh()
		synctest.Wait()
		_ = stop()
		reg, hb := rec.ops("register"), rec.ops("heartbeat")
		if len(reg) != 1 || len(hb) != 2 {
			t.Fatalf("got %d registrations and %d heartbeats, want 1 and 2", len(reg), len(hb))
		}
		want := []map[string]string{{"environment": "production"}, {"environment": "production", "failing_checks": "db"}, {"environment": "production"}}
		for i, got := range []map[string]string{reg[0].metadata, hb[0].metadata, hb[1].metadata} {
			if !maps.Equal(got, want[i]) {
				t.Errorf("call %d: got metadata %v, want %v", i, got, want[i])
			}
		}
		if !maps.Equal(inst.Metadata, map[string]string{"environment": "production"}) {
			t.Errorf("the caller's instance: got metadata %v, want it unchanged", inst.Metadata)
		}
	})
}
