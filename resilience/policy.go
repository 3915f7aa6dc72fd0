package resilience

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/prometheus/client_golang/prometheus"
)

// Policy composes, each optional, a rate limiter, a bulkhead, an overall
// timeout, retries with a budget, a circuit breaker and a per-attempt
// timeout, applied in this order from the outside in:
//
//	rate limit → bulkhead → overall timeout → retry → breaker → attempt timeout → call
//
// Apply it with Do, Endpoint or RoundTripper. A Policy is safe for
// concurrent use; build one per dependency with NewPolicy. The zero value is
// not usable.
type Policy struct {
	name           string
	cfg            PolicyConfig // defaults applied
	timeout        time.Duration
	attemptTimeout time.Duration
	maxAttempts    int
	classify       Classifier

	breaker  *Breaker  // nil: none
	budget   *budget   // nil: none
	bulkhead *bulkhead // nil: none
	limiter  *limiter  // nil: none
	m        *policyMetrics
}

type policyMetrics struct {
	first, retry      prometheus.Counter
	budgetExhausted   prometheus.Counter
	bulkheadRejected  prometheus.Counter
	rateLimitRejected prometheus.Counter
}

// NewPolicy returns the policy named name (the name label of its metrics
// and its breaker; 1 to 64 characters of letters, digits, '.', '_' and '-')
// built from cfg, zero fields taking their defaults. Besides the breaker's
// metrics (see NewBreaker) it registers, when given a registerer:
//
//	paved_retry_attempts_total{name,kind}        kind: first, retry
//	paved_retry_budget_exhausted_total{name}     retries refused by the budget
//	paved_bulkhead_rejections_total{name}
//	paved_ratelimit_rejections_total{name}
//
// It returns one error listing every invalid field, or the registerer's
// error (nothing left registered).
func NewPolicy(name string, cfg PolicyConfig, opts ...Option) (*Policy, error) {
	if err := validateName(name); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("resilience: policy %q: %w", name, err)
	}
	o := buildOptions(opts)
	p := &Policy{name: name, classify: o.classify}
	cfg.Timeout = defDur(cfg.Timeout, DefaultTimeout)
	cfg.AttemptTimeout = defDur(cfg.AttemptTimeout, DefaultAttemptTimeout)
	cfg.Retry = cfg.Retry.withDefaults()
	cfg.Bulkhead = cfg.Bulkhead.withDefaults()
	cfg.RateLimit = cfg.RateLimit.withDefaults()
	if !cfg.Breaker.Disabled {
		cfg.Breaker = cfg.Breaker.withDefaults()
	}
	p.cfg = cfg
	p.timeout = positiveOrZero(cfg.Timeout)
	p.attemptTimeout = positiveOrZero(cfg.AttemptTimeout)
	p.maxAttempts = cfg.Retry.MaxAttempts
	if p.maxAttempts > 1 && cfg.Retry.BudgetRatio > 0 {
		p.budget = newBudget(cfg.Retry)
	}
	if cfg.Bulkhead.MaxConcurrent > 0 {
		p.bulkhead = newBulkhead(cfg.Bulkhead)
	}
	if cfg.RateLimit.Rate > 0 {
		p.limiter = newLimiter(name, cfg.RateLimit)
	}

	var collectors []prometheus.Collector
	if o.reg != nil {
		labels := prometheus.Labels{"name": name}
		attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paved_retry_attempts_total", Help: "Attempts made by the retry loop: kind is first or retry.", ConstLabels: labels,
		}, []string{"kind"})
		exhausted := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "paved_retry_budget_exhausted_total", Help: "Retries refused because the retry budget was exhausted.", ConstLabels: labels,
		})
		bulk := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "paved_bulkhead_rejections_total", Help: "Calls rejected by the bulkhead.", ConstLabels: labels,
		})
		rl := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "paved_ratelimit_rejections_total", Help: "Calls rejected by the rate limiter.", ConstLabels: labels,
		})
		p.m = &policyMetrics{
			first: attempts.WithLabelValues("first"), retry: attempts.WithLabelValues("retry"),
			budgetExhausted: exhausted, bulkheadRejected: bulk, rateLimitRejected: rl,
		}
		collectors = []prometheus.Collector{attempts, exhausted, bulk, rl}
	}
	if !cfg.Breaker.Disabled {
		b, err := newBreaker(name, cfg.Breaker, o)
		if err != nil {
			return nil, fmt.Errorf("resilience: policy %q: %w", name, err)
		}
		p.breaker = b
	}
	if err := registerAll(o.reg, collectors...); err != nil {
		if p.breaker != nil && p.breaker.m != nil {
			for _, c := range p.breaker.m.collectors {
				o.reg.Unregister(c)
			}
		}
		return nil, fmt.Errorf("resilience: policy %q: register metrics: %w", name, err)
	}
	return p, nil
}

// Name returns the policy's name.
func (p *Policy) Name() string { return p.name }

// Config returns the policy's configuration with defaults applied.
func (p *Policy) Config() PolicyConfig { return p.cfg }

// Breaker returns the policy's circuit breaker, or nil when it has none.
func (p *Policy) Breaker() *Breaker { return p.breaker }

// HasBreaker reports whether the policy has a circuit breaker.
func (p *Policy) HasBreaker() bool { return p.breaker != nil }

// HasTimeout reports whether the policy bounds its calls in time (an
// overall or a per-attempt timeout).
func (p *Policy) HasTimeout() bool { return p.timeout > 0 || p.attemptTimeout > 0 }

// State returns the breaker's state; StateClosed when there is no breaker.
func (p *Policy) State() State {
	if p.breaker == nil {
		return StateClosed
	}
	return p.breaker.State()
}

// Do runs fn under policy p and returns its result. fn must honour its
// context: the context carries the per-attempt deadline. fn may run several
// times (Retry.MaxAttempts); wrap an error in Permanent to stop retrying.
// Do retries any call whose error the classifier calls a Failure, so apply a
// retrying policy only to operations safe to repeat.
//
// Errors: fn's last error (for a retry stopped by the budget, one that also
// matches ErrBudgetExhausted), an *OpenError, ErrBulkheadFull, a
// *RateLimitError, or ctx's error when ctx ended before fn ran.
func Do[T any](ctx context.Context, p *Policy, fn func(context.Context) (T, error)) (T, error) {
	return run(ctx, p, true, fn, nil)
}

// Endpoint returns the policy as a go-kit middleware. The endpoint may be
// called several times per request (see Do).
func (p *Policy) Endpoint() endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			return run(ctx, p, true, func(ctx context.Context) (any, error) {
				return next(ctx, request)
			}, nil)
		}
	}
}

// hooks let a caller keep resources tied to a result alive after run
// returns (an HTTP response body reads under the attempt's context).
type hooks[T any] struct {
	// discard releases a result that run drops before a retry.
	discard func(T)
	// bind ties release to the returned result, for results that hold
	// resources; it returns false when v holds none (release then runs at
	// once).
	bind func(v T, release func()) (T, bool)
}

// cleanup holds what a call must release when it ends.
type cleanup struct {
	bulkhead *bulkhead
	attempt  *deadlineCtx
	handed   bool // finish took over: release already done or bound
}

// onPanic releases what a call holds when fn panicked, so a panic cannot
// leak a bulkhead slot; the panic goes on.
func (c *cleanup) onPanic() {
	if !c.handed {
		c.run()
	}
}

func (c *cleanup) run() {
	if c.attempt != nil {
		c.attempt.release()
	}
	if c.bulkhead != nil {
		c.bulkhead.release()
	}
}

func finish[T any](v T, err error, c *cleanup, h *hooks[T]) (T, error) {
	c.handed = true
	if h != nil && h.bind != nil {
		held := new(cleanup)
		*held = *c
		if nv, ok := h.bind(v, held.run); ok {
			return nv, err
		}
	}
	c.run()
	return v, err
}

// run applies p to fn. The overall timeout is kept as a deadline the loop
// checks, not as a context: each attempt gets one context whose deadline is
// the earliest of the caller's, the overall one and the attempt timeout.
func run[T any](ctx context.Context, p *Policy, retryable bool, fn func(context.Context) (T, error), h *hooks[T]) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if p.limiter != nil {
		if err := p.limiter.take(ctx); err != nil {
			if p.m != nil && errors.Is(err, ErrRateLimited) {
				p.m.rateLimitRejected.Inc()
			}
			return zero, err
		}
	}
	var c cleanup
	if p.bulkhead != nil {
		if err := p.bulkhead.acquire(ctx); err != nil {
			if p.m != nil && err == ErrBulkheadFull {
				p.m.bulkheadRejected.Inc()
			}
			return zero, err
		}
		c.bulkhead = p.bulkhead
	}
	defer c.onPanic()
	var now time.Time
	if p.timeout > 0 || p.attemptTimeout > 0 || p.budget != nil {
		now = time.Now()
	}
	// deadline is the overall deadline: the caller's, or sooner with the
	// policy's Timeout. Zero: none.
	deadline, callerBound := ctx.Deadline()
	overallBound := false
	if p.timeout > 0 {
		if d := now.Add(p.timeout); !callerBound || d.Before(deadline) {
			deadline, overallBound = d, true
		}
	}
	if p.budget != nil {
		p.budget.onRequest(now)
	}
	maxAttempts := p.maxAttempts
	if !retryable {
		maxAttempts = 1
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			now = time.Now()
		}
		actx := ctx
		if ad, ok := attemptDeadline(now, deadline, overallBound, callerBound, p.attemptTimeout); ok {
			c.attempt = newDeadlineCtx(ctx, ad)
			actx = c.attempt
		}
		if p.m != nil {
			if attempt == 1 {
				p.m.first.Inc()
			} else {
				p.m.retry.Inc()
			}
		}
		v, err := callOnce(ctx, deadline, actx, p, fn)
		if err == nil {
			return finish(v, nil, &c, h)
		}
		wait, again := p.retryWait(ctx, deadline, attempt, maxAttempts, err)
		if again && p.budget != nil && !p.budget.tryRetry(time.Now()) {
			if p.m != nil {
				p.m.budgetExhausted.Inc()
			}
			return finish(v, &budgetError{last: unwrapPermanent(err)}, &c, h)
		}
		if !again {
			return finish(v, unwrapPermanent(err), &c, h)
		}
		if wait > 0 && !sleep(ctx, wait) {
			return finish(v, err, &c, h)
		}
		if h != nil && h.discard != nil {
			h.discard(v)
		}
		if c.attempt != nil {
			c.attempt.release()
			c.attempt = nil
		}
	}
}

// attemptDeadline returns the deadline for an attempt starting at now, and
// false when the caller's context already carries it (no new context).
func attemptDeadline(now, deadline time.Time, overallBound, callerBound bool, attemptTimeout time.Duration) (time.Time, bool) {
	if attemptTimeout > 0 {
		if d := now.Add(attemptTimeout); (!overallBound && !callerBound) || d.Before(deadline) {
			return d, true
		}
	}
	return deadline, overallBound
}

// callOnce runs one attempt through the breaker, if any. A failure counts
// as the caller's (ignored) when callerCtx ended or the overall deadline
// passed; attemptCtx is fn's.
func callOnce[T any](callerCtx context.Context, deadline time.Time, attemptCtx context.Context, p *Policy, fn func(context.Context) (T, error)) (v T, err error) {
	if p.breaker == nil {
		return fn(attemptCtx)
	}
	call := func(ctx context.Context) error {
		var ferr error
		v, ferr = fn(ctx)
		return ferr
	}
	if p.breaker.mayProbe() {
		err = p.breaker.execProbe(callerCtx, deadline, attemptCtx, call)
	} else {
		err = p.breaker.exec(callerCtx, deadline, attemptCtx, call)
	}
	return v, err
}

// retryWait decides whether attempt's error err is retried and after how
// long: not after the last attempt, not for Permanent errors, open breakers
// or errors the classifier does not call failures, not when the caller's
// context ended, not for a Retry-After longer than MaxRetryAfter, and not
// when the next attempt could not get its full AttemptTimeout before the
// deadline.
func (p *Policy) retryWait(ctx context.Context, deadline time.Time, attempt, maxAttempts int, err error) (time.Duration, bool) {
	if attempt >= maxAttempts || ctx.Err() != nil || IsPermanent(err) || errors.Is(err, ErrOpen) {
		return 0, false
	}
	if p.classify(err) != Failure {
		return 0, false
	}
	wait := backoff(&p.cfg.Retry, attempt)
	if ra, ok := RetryAfter(err); ok {
		if ra > p.cfg.Retry.MaxRetryAfter {
			return 0, false
		}
		wait = max(wait, ra)
	}
	if !deadline.IsZero() {
		need := max(p.attemptTimeout, time.Nanosecond)
		if time.Until(deadline)-wait < need {
			return 0, false
		}
	}
	return wait, true
}

func unwrapPermanent(err error) error {
	if pe, ok := err.(*permanentError); ok {
		return pe.err
	}
	return err
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
