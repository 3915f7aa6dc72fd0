package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Registry. The zero value is a valid configuration.
type Options struct {
	// Logger receives state changes (a check failing or recovering, start, shutdown) with
	// the error detail. Nil discards.
	Logger *slog.Logger
	// Registerer receives paved_health_check_status and
	// paved_health_check_duration_seconds. Nil means no metrics.
	Registerer prometheus.Registerer
	// ServiceID and Version are reported in application/health+json ("serviceId",
	// "version"). Empty values are omitted.
	ServiceID string
	Version   string
	// ShowDetails puts check error messages in HTTP answers. By default they say
	// "reason withheld" and only the log has the detail.
	ShowDetails bool
	// AllowLivenessDependencies lets a check with a Dependency be registered for
	// Liveness. Off by default: see docs/health.md (cascading restarts).
	AllowLivenessDependencies bool
	// ProbeWait bounds how long a probe (HTTP, gRPC, Evaluate, EvaluateCheck) waits for
	// the checks it found running: then it answers from the results it has, a check
	// still running counting as failed ("still running"), while the run goes on and
	// records its own result for the next probe. Zero means DefaultProbeWait (800ms),
	// so that a probe answers inside the kubelet's default timeoutSeconds of 1 and
	// grpc-health-probe's default -rpc-timeout of 1s whatever the check timeouts;
	// negative means wait for each check's own Timeout. Keep it below the probe's
	// timeout with room for the network (see docs/operations.md).
	ProbeWait time.Duration
}

// ErrRunning is returned by Run when the registry is already running or closed.
var ErrRunning = errors.New("health: registry already running or closed")

// Registry holds named checks and answers probes from their last results. It is safe for
// concurrent use. Create it with New.
type Registry struct {
	opts      Options
	probeWait time.Duration // Options.ProbeWait with its default; <= 0: no bound
	log       *slog.Logger
	metrics   *metrics
	base      context.Context // parent of every check run; cancelled by Close
	cancel    context.CancelFunc
	scratch   sync.Pool // *scratch, for the HTTP handler
	hdr       headerValues

	list     atomic.Pointer[[]*entry] // registration order; replaced, never mutated
	started  atomic.Bool
	shutdown atomic.Bool

	// mu guards the fields below, and serialises Register, gates and notifications.
	mu      sync.Mutex
	byName  map[string]*entry
	subs    map[*subscriber]struct{}
	running bool
	wake    chan struct{} // nudges Run's scheduler after a periodic Register

	// runMu guards closed and inflight; runIdle is signalled when inflight drops to 0.
	runMu    sync.Mutex
	runIdle  *sync.Cond
	closed   bool
	inflight int
}

// New returns a Registry. It fails only when the metrics cannot be registered on
// opts.Registerer (a different collector already uses the names); an identical
// collector already registered is reused.
func New(opts Options) (*Registry, error) {
	r := &Registry{
		opts:   opts,
		log:    opts.Logger,
		byName: map[string]*entry{},
		subs:   map[*subscriber]struct{}{},
		wake:   make(chan struct{}, 1),
		hdr:    newHeaderValues(),
	}
	r.probeWait = opts.ProbeWait
	if r.probeWait == 0 {
		r.probeWait = DefaultProbeWait
	}
	r.scratch.New = func() any { return new(scratch) }
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.runIdle = sync.NewCond(&r.runMu)
	if opts.Registerer != nil {
		m, err := newMetrics(opts.Registerer)
		if err != nil {
			return nil, err
		}
		r.metrics = m
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	empty := []*entry{}
	r.list.Store(&empty)
	return r, nil
}

// Register adds a check. It fails, leaving the registry unchanged, when the check is
// invalid (ErrInvalidCheck), its name is taken (ErrDuplicate), or it probes a
// Dependency for Liveness without Options.AllowLivenessDependencies
// (ErrLivenessDependency).
func (r *Registry) Register(c Check) error {
	c, err := c.normalize(r.opts.AllowLivenessDependencies)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byName[c.Name]; ok {
		return fmt.Errorf("%w: %q is already registered", ErrDuplicate, c.Name)
	}
	e := &entry{c: c, critical: !c.NonCritical}
	r.byName[c.Name] = e
	old := *r.list.Load()
	next := make([]*entry, len(old), len(old)+1)
	copy(next, old)
	next = append(next, e)
	r.list.Store(&next)
	if c.Period > 0 {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	r.notifyLocked()
	return nil
}

// Checks lists the registered checks in registration order. The slice is the caller's.
func (r *Registry) Checks() []CheckInfo {
	list := *r.list.Load()
	out := make([]CheckInfo, len(list))
	for i, e := range list {
		out[i] = CheckInfo{
			Name: e.c.Name, Kinds: e.c.Kinds, Dependency: e.c.Dependency, Critical: e.critical,
			Timeout: e.c.Timeout, Period: e.c.Period, CacheTTL: e.c.CacheTTL,
		}
	}
	return out
}

// MarkStarted records that startup is done: from now on startup passes and readiness
// passes when its checks do (unless Shutdown was called).
func (r *Registry) MarkStarted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started.Swap(true) {
		return
	}
	r.log.Info("health: started")
	r.notifyLocked()
}

// Shutdown makes readiness and startup fail from now on, whatever the checks say, until
// Resume. Liveness is unaffected. Call it at the first moment of shutdown, so load
// balancers stop sending traffic while the servers drain.
func (r *Registry) Shutdown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shutdown.Swap(true) {
		return
	}
	r.log.Info("health: shutting down; readiness fails from now on")
	r.notifyLocked()
}

// Resume undoes Shutdown.
func (r *Registry) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.shutdown.Swap(false) {
		return
	}
	r.log.Info("health: resumed")
	r.notifyLocked()
}

// Run runs the periodic checks (Check.Period > 0) until ctx is done or Close is called,
// then waits for their in-flight runs to return (a check that ignores its context delays
// this) and returns nil. Checks registered while Run runs are picked up. It returns
// ErrRunning when called while another Run is active or after Close.
func (r *Registry) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running || r.base.Err() != nil {
		r.mu.Unlock()
		return ErrRunning
	}
	r.running = true
	r.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(r.base, cancel)
	defer func() {
		stop()
		cancel()
		r.waitPeriodic()
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-r.wake:
		}
		timer.Reset(r.schedule(ctx, time.Now()))
	}
}

// schedule starts every periodic check that is due and returns the time until the next
// one is.
func (r *Registry) schedule(ctx context.Context, now time.Time) time.Duration {
	next := time.Hour
	for _, e := range *r.list.Load() {
		if e.c.Period <= 0 {
			continue
		}
		e.mu.Lock()
		if !now.Before(e.due) {
			if !e.running {
				r.startLocked(e, ctx)
			}
			e.due = now.Add(e.c.Period)
		}
		if d := e.due.Sub(now); d < next {
			next = d
		}
		e.mu.Unlock()
	}
	return next
}

// waitPeriodic waits until no periodic check is running.
func (r *Registry) waitPeriodic() {
	for _, e := range *r.list.Load() {
		if e.c.Period <= 0 {
			continue
		}
		e.mu.Lock()
		idle := e.idle
		e.mu.Unlock()
		if idle != nil {
			<-idle
		}
	}
}

// Close cancels every running check, stops Run, waits for in-flight runs to return and
// refuses new runs: later probes are answered from the last results. A check that ignores
// its context delays Close until it returns. Close is idempotent and always returns nil.
func (r *Registry) Close() error {
	r.runMu.Lock()
	r.closed = true
	r.runMu.Unlock()
	r.cancel()
	r.runMu.Lock()
	for r.inflight > 0 {
		r.runIdle.Wait()
	}
	r.runMu.Unlock()
	return nil
}

// sortedNames returns the registered names, sorted, for error messages.
func (r *Registry) sortedNames(kind Kind) []string {
	var names []string
	for _, e := range *r.list.Load() {
		if e.c.Kinds&kind != 0 {
			names = append(names, e.c.Name)
		}
	}
	if kind&(Readiness|Startup) != 0 {
		names = append(names, startedName, shutdownName)
	}
	sort.Strings(names)
	return names
}
