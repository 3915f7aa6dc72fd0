package resilience

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// State is a circuit breaker's state. Its numeric value is the value of the
// paved_breaker_state gauge.
type State int

// Breaker states.
const (
	StateClosed   State = 0 // calls go through
	StateHalfOpen State = 1 // up to HalfOpenMaxRequests probes go through
	StateOpen     State = 2 // calls fail fast with an *OpenError
)

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateHalfOpen:
		return "half-open"
	case StateOpen:
		return "open"
	default:
		return fmt.Sprintf("State(%d)", int(s))
	}
}

// markers returned to gobreaker from inside Execute: a successful error and
// an ignored one. They never leave the package.
var (
	errCountSuccess = errors.New("resilience: counted as success")
	errCountIgnored = errors.New("resilience: ignored")
)

// Breaker is a circuit breaker built on sony/gobreaker v2. It is safe for
// concurrent use. Build one with NewBreaker; the zero value is not usable.
type Breaker struct {
	name     string
	cfg      BreakerConfig // defaults applied
	cb       *gobreaker.CircuitBreaker[struct{}]
	classify Classifier
	logger   *slog.Logger
	m        *breakerMetrics // nil: no metrics

	// state mirrors the gobreaker state; written under gobreaker's lock in
	// onStateChange, read without lock to pick the probe timeout.
	state atomic.Int32
	// openedAt is when the breaker last opened, in Unix nanoseconds.
	openedAt atomic.Int64
}

type breakerMetrics struct {
	transitions *prometheus.CounterVec
	success     prometheus.Counter
	failure     prometheus.Counter
	ignored     prometheus.Counter
	rejected    prometheus.Counter
	collectors  []prometheus.Collector
}

// NewBreaker returns a circuit breaker named name (the name label of its
// metrics; 1 to 64 characters of letters, digits, '.', '_' and '-') with
// cfg, zero fields taking their defaults. It registers, when given a
// registerer (WithRegisterer):
//
//	paved_breaker_state{name}                 gauge: 0 closed, 1 half-open, 2 open
//	paved_breaker_transitions_total{name,from,to}
//	paved_breaker_results_total{name,result}  result: success, failure, ignored, rejected
//
// It returns an error naming the field for an invalid config, and the
// registerer's error (nothing left registered) if a breaker with this name
// is already registered there.
func NewBreaker(name string, cfg BreakerConfig, opts ...Option) (*Breaker, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	if cfg.Disabled {
		return nil, fmt.Errorf("resilience: breaker %q: BreakerConfig.Disabled is true; NewBreaker needs an enabled config", name)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("resilience: breaker %q: %w", name, err)
	}
	o := buildOptions(opts)
	return newBreaker(name, cfg, o)
}

func newBreaker(name string, cfg BreakerConfig, o options) (*Breaker, error) {
	cfg = cfg.withDefaults()
	b := &Breaker{name: name, cfg: cfg, classify: o.classify, logger: o.logger}
	st := gobreaker.Settings{
		Name:         name,
		MaxRequests:  cfg.HalfOpenMaxRequests,
		Interval:     positiveOrZero(cfg.Interval),
		BucketPeriod: cfg.BucketPeriod,
		Timeout:      cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if c.ConsecutiveFailures >= cfg.ConsecutiveFailures {
				return true
			}
			counted := c.TotalSuccesses + c.TotalFailures
			return cfg.FailureRatio > 0 && counted >= cfg.MinRequests &&
				float64(c.TotalFailures) >= cfg.FailureRatio*float64(counted)
		},
		OnStateChange: b.onStateChange,
		IsSuccessful:  func(err error) bool { return err == nil || err == errCountSuccess },
		IsExcluded:    func(err error) bool { return err == errCountIgnored },
	}
	if o.reg != nil {
		b.m = newBreakerMetrics(name, b)
		if err := registerAll(o.reg, b.m.collectors...); err != nil {
			return nil, fmt.Errorf("resilience: breaker %q: register metrics: %w", name, err)
		}
	}
	b.cb = gobreaker.NewCircuitBreaker[struct{}](st)
	return b, nil
}

func newBreakerMetrics(name string, b *Breaker) *breakerMetrics {
	labels := prometheus.Labels{"name": name}
	state := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "paved_breaker_state",
		Help:        "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
		ConstLabels: labels,
	}, func() float64 { return float64(b.State()) })
	transitions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "paved_breaker_transitions_total",
		Help:        "Circuit breaker state transitions.",
		ConstLabels: labels,
	}, []string{"from", "to"})
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "paved_breaker_results_total",
		Help:        "Calls through the circuit breaker by result: success, failure, ignored (caller gave up or classifier said so), rejected (breaker open).",
		ConstLabels: labels,
	}, []string{"result"})
	// Pre-create every series so dashboards see zeros.
	for _, p := range [][2]string{{"closed", "open"}, {"open", "half-open"}, {"half-open", "open"}, {"half-open", "closed"}} {
		transitions.WithLabelValues(p[0], p[1])
	}
	return &breakerMetrics{
		transitions: transitions,
		success:     results.WithLabelValues("success"),
		failure:     results.WithLabelValues("failure"),
		ignored:     results.WithLabelValues("ignored"),
		rejected:    results.WithLabelValues("rejected"),
		collectors:  []prometheus.Collector{state, transitions, results},
	}
}

func toState(s gobreaker.State) State {
	switch s {
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	case gobreaker.StateOpen:
		return StateOpen
	default:
		return StateClosed
	}
}

// onStateChange runs under gobreaker's lock: set the mirror, count, log.
func (b *Breaker) onStateChange(_ string, from, to gobreaker.State) {
	f, t := toState(from), toState(to)
	b.state.Store(int32(t))
	if t == StateOpen {
		b.openedAt.Store(time.Now().UnixNano())
	}
	if b.m != nil {
		b.m.transitions.WithLabelValues(f.String(), t.String()).Inc()
	}
	level := slog.LevelInfo
	if t == StateOpen {
		level = slog.LevelWarn
	}
	b.logger.Log(context.Background(), level, "circuit breaker state changed",
		slog.String("breaker", b.name), slog.String("from", f.String()), slog.String("to", t.String()))
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// Config returns the breaker's configuration with defaults applied.
func (b *Breaker) Config() BreakerConfig { return b.cfg }

// State returns the current state. An open breaker whose open timeout has
// passed reports half-open.
func (b *Breaker) State() State { return toState(b.cb.State()) }

// Counts returns the counts of the current generation (they are cleared on
// every state change and at each closed-state interval).
func (b *Breaker) Counts() (requests, successes, failures, ignored uint32) {
	c := b.cb.Counts()
	return c.Requests, c.TotalSuccesses, c.TotalFailures, c.TotalExclusions
}

// Do runs fn through the breaker. When the breaker refuses the call Do
// returns an *OpenError (errors.Is(err, ErrOpen)) without running fn.
// Otherwise it returns fn's error unchanged, after counting it:
//   - if ctx (the caller's context) has ended, the result is ignored, so a
//     caller's cancellation or its own deadline never trips the breaker;
//   - else a nil error is a success and a non-nil one is classified.
//
// A call admitted while half-open runs under ProbeTimeout; its expiry is a
// failure, counted at ProbeTimeout even when fn ignores its context and
// returns later (Do still waits for fn and returns its error). Results of calls admitted before the last state change are
// dropped (gobreaker's generations). A panic in fn counts as a failure and
// is re-raised.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	if b.mayProbe() {
		return b.execProbe(ctx, time.Time{}, ctx, fn)
	}
	return b.exec(ctx, time.Time{}, ctx, fn)
}

// mayProbe reports whether a call now would be admitted as a half-open probe
// under ProbeTimeout, and should go through execProbe. A breaker whose mirror
// says closed costs one atomic load. The answer can be stale: a call that
// looked closed or refused and is admitted half-open runs under ProbeTimeout
// through its context alone (exec), as a probe that honours its context does
// anyway.
func (b *Breaker) mayProbe() bool {
	if b.cfg.ProbeTimeout <= 0 || State(b.state.Load()) == StateClosed {
		return false
	}
	if toState(b.cb.State()) != StateHalfOpen {
		return false
	}
	c := b.cb.Counts()
	return c.Requests-c.TotalExclusions < b.cfg.HalfOpenMaxRequests
}

// exec is Do with the caller's context and deadline (whose end makes a
// result ignored) apart from the context fn runs under (which may carry an
// attempt timeout whose expiry is a failure). A zero deadline is none. fn
// runs on the caller's goroutine (see mayProbe).
func (b *Breaker) exec(ctx context.Context, deadline time.Time, callCtx context.Context, fn func(context.Context) error) error {
	var (
		callErr error
		ran     bool
	)
	_, err := b.cb.Execute(func() (struct{}, error) {
		ran = true
		if b.cfg.ProbeTimeout > 0 && State(b.state.Load()) == StateHalfOpen {
			var cancel context.CancelFunc
			callCtx, cancel = context.WithTimeout(callCtx, b.cfg.ProbeTimeout)
			defer cancel()
		}
		callErr = fn(callCtx)
		return struct{}{}, b.mark(ctx, deadline, callErr)
	})
	return b.count(ran, err, callErr)
}

// execProbe is exec for a call that may be admitted as a half-open probe. fn
// still runs on the caller's goroutine (so that it and the closures around it
// stay on the caller's stack); gobreaker's Execute runs in a goroutine of its
// own, which waits for fn's result or, for a probe, for ProbeTimeout: a probe
// still running then is counted a failure and the breaker reopens at once,
// even when fn ignores its context and returns much later (the caller still
// gets fn's own result when it does).
func (b *Breaker) execProbe(ctx context.Context, deadline time.Time, callCtx context.Context, fn func(context.Context) error) error {
	pctx, cancel := context.WithTimeout(callCtx, b.cfg.ProbeTimeout)
	defer cancel()
	admitted := make(chan probeAdmission, 1)
	result := make(chan error, 1) // fn's result, marked for gobreaker
	refused := make(chan error, 1)
	finished := make(chan struct{}) // closed when the outcome is counted
	go func() {
		defer close(finished)
		ran := false
		_, err := b.cb.Execute(func() (struct{}, error) {
			ran = true
			if State(b.state.Load()) != StateHalfOpen {
				admitted <- admittedPlain
				return struct{}{}, <-result
			}
			admitted <- admittedProbe
			select {
			case err := <-result:
				return struct{}{}, err
			case <-pctx.Done():
				if ctx.Err() != nil || (!deadline.IsZero() && !time.Now().Before(deadline)) {
					return struct{}{}, errCountIgnored
				}
				return struct{}{}, errProbeTimedOut
			}
		})
		b.record(ran, err)
		if !ran {
			admitted <- probeRefused
			refused <- err
		}
	}()
	var callErr error
	switch <-admitted {
	case probeRefused:
		return b.openError(<-refused)
	case admittedPlain:
		pctx = callCtx
	}
	done := false
	defer func() {
		if !done { // fn panicked: a failure; the panic goes on
			result <- errProbePanicked
		}
		<-finished // return only once the outcome is counted, as exec does
	}()
	callErr = fn(pctx)
	done = true
	result <- b.mark(ctx, deadline, callErr)
	return callErr
}

// probeAdmission is what execProbe's Execute goroutine tells the caller.
type probeAdmission int

const (
	probeRefused  probeAdmission = iota // the breaker refused the call
	admittedPlain                       // admitted, not as a half-open probe
	admittedProbe                       // admitted half-open, under ProbeTimeout
)

// Markers told to gobreaker from execProbe: failures that never leave the
// package.
var (
	errProbeTimedOut = errors.New("resilience: half-open probe timed out")
	errProbePanicked = errors.New("resilience: call panicked")
)

// count records the outcome of an Execute in the metrics and returns what the
// caller gets: an *OpenError when fn did not run, else fn's error.
func (b *Breaker) count(ran bool, err, callErr error) error {
	b.record(ran, err)
	if !ran {
		return b.openError(err)
	}
	return callErr
}

// record counts the outcome of an Execute in the metrics.
func (b *Breaker) record(ran bool, err error) {
	if b.m == nil {
		return
	}
	if !ran {
		b.m.rejected.Inc()
		return
	}
	switch err {
	case nil, errCountSuccess:
		b.m.success.Inc()
	case errCountIgnored:
		b.m.ignored.Inc()
	default:
		b.m.failure.Inc()
	}
}

// mark turns a call's error into what gobreaker should count.
func (b *Breaker) mark(ctx context.Context, deadline time.Time, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil || (!deadline.IsZero() && !time.Now().Before(deadline)) {
		return errCountIgnored
	}
	switch b.classify(err) {
	case Success:
		return errCountSuccess
	case Ignored:
		return errCountIgnored
	default:
		return err
	}
}

func (b *Breaker) openError(err error) error {
	if errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &OpenError{Breaker: b.name, HalfOpen: true, Wait: max(b.cfg.ProbeTimeout, 0)}
	}
	wait := time.Until(time.Unix(0, b.openedAt.Load()).Add(b.cfg.OpenTimeout))
	return &OpenError{Breaker: b.name, Wait: max(wait, 0)}
}

func validateName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("resilience: name %q: want 1 to 64 characters of letters, digits, '.', '_' and '-'", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("resilience: name %q: character %q not allowed; want letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}
