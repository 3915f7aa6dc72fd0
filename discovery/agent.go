package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is the registration state of an [Agent], shown on /info and exported as the
// paved_registration_state gauge.
type State string

// The registration states.
const (
	// StateUnregistered: the agent has not started registering.
	StateUnregistered State = "unregistered"
	// StateRegistering: a registration, first or after the registry forgot the instance,
	// is under way.
	StateRegistering State = "registering"
	// StateRegistered: the last registration or heartbeat succeeded.
	StateRegistered State = "registered"
	// StateFailing: the last registration or heartbeat failed; the agent keeps trying.
	StateFailing State = "failing"
	// StateDeregistered: the agent stopped and deregistered the instance.
	StateDeregistered State = "deregistered"
)

// States lists every [State], in the order of a registration's life.
func States() []State {
	return []State{StateUnregistered, StateRegistering, StateRegistered, StateFailing, StateDeregistered}
}

// MetricRegistrationState is the name of the agent's one-hot gauge: one series per
// state, labelled state, the current one at 1 and the others at 0.
const MetricRegistrationState = "paved_registration_state"

// ErrAgentRunning is returned by [Agent.Run] when the agent is already running.
var ErrAgentRunning = errors.New("discovery: agent already running")

// AgentOption configures an [Agent].
type AgentOption func(*agentConfig)

type agentConfig struct {
	ttl         time.Duration
	readiness   func() Status
	metadata    func() map[string]string
	logger      *slog.Logger
	registerer  prometheus.Registerer
	jitter      func(time.Duration) time.Duration
	backoffBase time.Duration
	callTimeout time.Duration
}

// WithTTL sets how long the registration lives without a heartbeat; heartbeats are sent
// every TTL/3. The default is the instance's TTL, or [DefaultTTL] when that is zero.
// It must be between [MinTTL] and [MaxTTL].
func WithTTL(ttl time.Duration) AgentOption {
	return func(c *agentConfig) { c.ttl = ttl }
}

// WithReadiness sets the source of the status each registration and heartbeat carries,
// typically the service's readiness checks. The default always reports
// [StatusPassing]. It is called from the agent's goroutine and must not block long.
func WithReadiness(f func() Status) AgentOption {
	return func(c *agentConfig) { c.readiness = f }
}

// WithMetadata sets a source of metadata each registration and heartbeat adds to the
// instance's, called right after the readiness source, such as the names of the
// readiness checks that fail. A key it returns replaces the instance's own. It reaches
// the registries whose heartbeats carry the whole instance (the catalog's); the others
// keep the metadata of the registration. It is called from the agent's goroutine and
// must not block long.
func WithMetadata(f func() map[string]string) AgentOption {
	return func(c *agentConfig) { c.metadata = f }
}

// WithLogger sets the logger for state changes. Nil, the default, discards.
func WithLogger(l *slog.Logger) AgentOption {
	return func(c *agentConfig) { c.logger = l }
}

// WithRegisterer registers the paved_registration_state gauge with r. Nil, the default,
// means no metrics.
func WithRegisterer(r prometheus.Registerer) AgentOption {
	return func(c *agentConfig) { c.registerer = r }
}

// WithJitter sets the random source for delays: f(max) returns a duration in [0, max).
// The default draws uniformly from math/rand/v2. Tests pass a deterministic one.
func WithJitter(f func(max time.Duration) time.Duration) AgentOption {
	return func(c *agentConfig) { c.jitter = f }
}

// WithBackoff sets the first ceiling of the registration retry backoff; the ceiling
// doubles after each failed attempt up to the heartbeat interval (TTL/3), and each wait
// is drawn from [0, ceiling) (full jitter). The default is one second, or TTL/30 when
// that is smaller.
func WithBackoff(base time.Duration) AgentOption {
	return func(c *agentConfig) { c.backoffBase = base }
}

// WithCallTimeout bounds each Register and Heartbeat call. The default is the heartbeat
// interval, TTL/3.
func WithCallTimeout(d time.Duration) AgentOption {
	return func(c *agentConfig) { c.callTimeout = d }
}

// Agent runs the automatic registration of one instance: [Agent.Run] registers it and
// keeps it registered; [Agent.Deregister] stops that and removes it.
//
// Timing, with interval = TTL/3: registration is retried forever with exponential
// backoff and full jitter (waits drawn from [0, ceiling), the ceiling doubling from the
// backoff base up to interval); once registered, a heartbeat carrying the readiness
// status is sent every interval, the first one after a random delay in (0, interval] so
// that instances registered together heartbeat out of step; a heartbeat that fails
// (registry unreachable) is tried again at the next interval, forever; a heartbeat
// answered with [ErrUnknownInstance] leads to a full registration after a random delay
// in [0, max(interval, [MinReregisterWindow])). So a fleet that a registry forgot at
// once (it restarted empty) re-registers spread over more than one interval: with the
// default 30 s TTL, 100 agents come back over about 20 s, never many in one second.
//
// Agent is safe for concurrent use. Create it with [NewAgent].
type Agent struct {
	reg      Registrar
	inst     Instance
	cfg      agentConfig
	interval time.Duration
	log      *slog.Logger
	gauge    *prometheus.GaugeVec
	kick     chan struct{} // 1-buffered: Refresh asks for a heartbeat now

	// mu guards the fields below.
	mu      sync.Mutex
	state   State
	lastErr error
	running bool
	stopped bool // Deregister was called: Run stops and does not start again
	// deregistered: the registry call was made (or nothing was registered)
	deregistered bool
	cancel       context.CancelFunc
	done         chan struct{}
}

// NewAgent returns an agent that registers inst with reg. inst's Status is replaced by
// the readiness source's at each call and its TTL by the agent's. It fails when reg is
// nil, inst is invalid, an option is out of range, or the gauge cannot be registered.
func NewAgent(reg Registrar, inst Instance, opts ...AgentOption) (*Agent, error) {
	if reg == nil {
		return nil, errors.New("discovery: NewAgent: registrar is nil; pass a backend such as static, etcd or consul")
	}
	cfg := agentConfig{ttl: inst.EffectiveTTL()}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.ttl < MinTTL || cfg.ttl > MaxTTL {
		return nil, fmt.Errorf("discovery: NewAgent: TTL must be between %v and %v, got %v", MinTTL, MaxTTL, cfg.ttl)
	}
	interval := cfg.ttl / 3
	if cfg.readiness == nil {
		cfg.readiness = func() Status { return StatusPassing }
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.jitter == nil {
		cfg.jitter = uniform
	}
	if cfg.backoffBase == 0 {
		cfg.backoffBase = min(time.Second, cfg.ttl/30)
	}
	if cfg.backoffBase < 0 {
		return nil, fmt.Errorf("discovery: NewAgent: backoff base must be positive, got %v", cfg.backoffBase)
	}
	if cfg.callTimeout == 0 {
		cfg.callTimeout = interval
	}
	if cfg.callTimeout < 0 {
		return nil, fmt.Errorf("discovery: NewAgent: call timeout must be positive, got %v", cfg.callTimeout)
	}
	inst = inst.Clone()
	inst.TTL = cfg.ttl
	if !inst.Status.Valid() {
		inst.Status = StatusCritical
	}
	if err := inst.Validate(); err != nil {
		return nil, fmt.Errorf("discovery: NewAgent: %w", err)
	}
	a := &Agent{
		reg:      reg,
		inst:     inst,
		cfg:      cfg,
		interval: interval,
		log:      cfg.logger.With("service", inst.Service, "instance", inst.ID),
		state:    StateUnregistered,
		kick:     make(chan struct{}, 1),
	}
	if cfg.registerer != nil {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricRegistrationState,
			Help: "Registration state of this instance in the service registry: 1 for the current state, 0 for the others.",
		}, []string{"state"})
		if err := cfg.registerer.Register(g); err != nil {
			return nil, fmt.Errorf("discovery: NewAgent: registering %s: %w", MetricRegistrationState, err)
		}
		a.gauge = g
		a.setGauge(StateUnregistered)
	}
	return a, nil
}

func uniform(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

// State returns the current registration state.
func (a *Agent) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Err returns the error of the last failed call, or nil after a success.
func (a *Agent) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastErr
}

// HeartbeatInterval returns TTL/3.
func (a *Agent) HeartbeatInterval() time.Duration { return a.interval }

func (a *Agent) setState(s State, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastErr = err
	if a.state == s || a.state == StateDeregistered {
		return
	}
	a.state = s
	a.setGauge(s)
	if err != nil {
		a.log.Warn("registration state changed", "state", string(s), "error", err.Error())
	} else {
		a.log.Info("registration state changed", "state", string(s))
	}
}

func (a *Agent) setGauge(s State) {
	if a.gauge == nil {
		return
	}
	for _, st := range States() {
		v := 0.0
		if st == s {
			v = 1
		}
		a.gauge.WithLabelValues(string(st)).Set(v)
	}
}

// Run registers the instance and keeps it registered until ctx ends or [Agent.Deregister]
// is called. It never gives up on an unreachable registry, so call it in its own
// goroutine; the service serves meanwhile. It returns nil after Deregister, ctx's error
// when ctx ended, and [ErrAgentRunning] when already running. Run does not deregister
// when ctx ends: call Deregister for that.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return ErrAgentRunning
	}
	if a.stopped {
		a.mu.Unlock()
		return nil
	}
	loopCtx, cancel := context.WithCancel(ctx)
	a.running, a.cancel, a.done = true, cancel, make(chan struct{})
	done := a.done
	a.mu.Unlock()

	a.loop(loopCtx)
	cancel()
	a.mu.Lock()
	a.running = false
	stopped := a.stopped
	a.mu.Unlock()
	close(done)
	if stopped {
		return nil
	}
	return ctx.Err()
}

func (a *Agent) loop(ctx context.Context) {
	a.setState(StateRegistering, nil)
	for {
		if !a.register(ctx) {
			return
		}
		if !a.heartbeat(ctx) {
			return
		}
		// The registry forgot the instance: wait a random part of the re-registration
		// window so that instances re-registering after a registry restart spread out.
		if !sleep(ctx, a.cfg.jitter(a.reregisterWindow())) {
			return
		}
	}
}

// register registers until it succeeds (true) or ctx ends (false).
func (a *Agent) register(ctx context.Context) bool {
	ceiling := a.cfg.backoffBase
	for {
		err := a.call(ctx, a.reg.Register)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			a.setState(StateRegistered, nil)
			select { // the registration carried the current readiness already
			case <-a.kick:
			default:
			}
			return true
		}
		a.setState(StateFailing, err)
		if !sleep(ctx, a.cfg.jitter(ceiling)) {
			return false
		}
		ceiling = min(2*ceiling, a.interval)
	}
}

// heartbeat heartbeats every interval until the registry forgets the instance (true) or
// ctx ends (false). The first heartbeat comes after a random part of the interval, in
// (0, interval]: agents registered together (a fleet started at once, or re-registered
// after a registry restart) heartbeat out of step from then on, so that a registry that
// forgot them all tells each at a different time.
func (a *Agent) heartbeat(ctx context.Context) bool {
	t := time.NewTimer(a.interval - a.cfg.jitter(a.interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		case <-a.kick:
		}
		t.Reset(a.interval)
		err := a.call(ctx, a.reg.Heartbeat)
		switch {
		case ctx.Err() != nil:
			return false
		case err == nil:
			a.setState(StateRegistered, nil)
		case errors.Is(err, ErrUnknownInstance):
			a.setState(StateRegistering, err)
			return true
		default:
			a.setState(StateFailing, err)
		}
	}
}

// MinReregisterWindow is the shortest window an [Agent] draws its re-registration delay
// from, whatever its heartbeat interval: a fleet the registry forgot at once comes back
// spread over at least this long, about a sixth of it a second at most on average.
const MinReregisterWindow = 6 * time.Second

// reregisterWindow is the window of the random delay before a re-registration: the
// heartbeat interval, or MinReregisterWindow when that is longer.
func (a *Agent) reregisterWindow() time.Duration { return max(a.interval, MinReregisterWindow) }

func (a *Agent) call(ctx context.Context, f func(context.Context, Instance) error) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.callTimeout)
	defer cancel()
	inst := a.inst.Clone()
	inst.Status = a.cfg.readiness()
	if !inst.Status.Valid() {
		inst.Status = StatusCritical
	}
	if a.cfg.metadata != nil {
		for k, v := range a.cfg.metadata() {
			if inst.Metadata == nil {
				inst.Metadata = map[string]string{}
			}
			inst.Metadata[k] = v
		}
	}
	return f(ctx, inst)
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Refresh asks for a heartbeat now rather than at the next interval, so that a readiness
// change reaches the registry at once; the service calls it when readiness changes. It
// never blocks; while the agent is not registered it does nothing useful.
func (a *Agent) Refresh() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Deregister stops [Agent.Run], waits for it to return, and removes the instance from the
// registry, once: later calls return nil. The service calls it right after readiness
// fails, before the drain delay. ctx bounds the wait and the registry call; when it ends
// before Run has stopped, Deregister returns an error and may be called again. An
// instance the registry already forgot counts as removed.
func (a *Agent) Deregister(ctx context.Context) error {
	a.mu.Lock()
	if a.deregistered {
		a.mu.Unlock()
		return nil
	}
	a.stopped = true
	cancel, done, running := a.cancel, a.done, a.running
	a.mu.Unlock()
	if running {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			// Run is still inside a registry call; a later Deregister may try again.
			return fmt.Errorf("discovery: deregister %s/%s: waiting for the agent to stop: %w", a.inst.Service, a.inst.ID, ctx.Err())
		}
	}
	a.mu.Lock()
	if a.deregistered { // a concurrent Deregister did it
		a.mu.Unlock()
		return nil
	}
	a.deregistered = true
	a.mu.Unlock()
	if a.State() == StateUnregistered {
		a.setState(StateDeregistered, nil)
		return nil
	}
	inst := a.inst.Clone()
	inst.Status = StatusCritical
	err := a.reg.Deregister(ctx, inst)
	if errors.Is(err, ErrUnknownInstance) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("discovery: deregister %s/%s: %w", a.inst.Service, a.inst.ID, err)
		a.log.Warn("deregistration failed; the registration expires after its TTL", "error", err.Error())
	}
	a.setState(StateDeregistered, err)
	return err
}
