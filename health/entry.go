package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of one run of a check.
type Result struct {
	// Err is nil when the check passed.
	Err error
	// Duration is how long the run took (its timeout for an abandoned run).
	Duration time.Duration
	// Time is when the run ended.
	Time time.Time
}

// errNotRun is the result of a check that has not completed a run yet.
var errNotRun = errors.New("health: check has not run yet")

// snapshot is a result and the time until which it is fresh.
type snapshot struct {
	res     Result
	expires time.Time
}

// entry is one registered check and its last result.
type entry struct {
	c        Check
	critical bool

	// last is the last completed run (nil before the first), read without a lock by
	// probes; it is stored under mu.
	last atomic.Pointer[snapshot]

	// mu guards the fields below.
	mu      sync.Mutex
	running bool          // a run's check func has not returned yet
	wait    chan struct{} // open while the current run has no recorded result
	idle    chan struct{} // open while running; closed when the check func returns
	due     time.Time     // next periodic run
}

// startLocked starts a run of e under parent unless the registry is closed. e.mu is held.
func (r *Registry) startLocked(e *entry, parent context.Context) {
	r.runMu.Lock()
	if r.closed {
		r.runMu.Unlock()
		return
	}
	r.inflight++
	r.runMu.Unlock()
	e.running = true
	wait, idle := make(chan struct{}), make(chan struct{})
	e.wait, e.idle = wait, idle
	go r.run(e, parent, wait, idle)
}

// run runs the check once. A check that outlives its timeout is abandoned: its failure is
// recorded at the timeout, and run waits for the func to return before letting a new run
// start, so a hanging dependency holds at most one goroutine pair.
func (r *Registry) run(e *entry, parent context.Context, wait, idle chan struct{}) {
	defer func() {
		r.runMu.Lock()
		r.inflight--
		if r.inflight == 0 {
			r.runIdle.Broadcast()
		}
		r.runMu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(parent, e.c.Timeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- call(ctx, e.c) }()
	select {
	case err := <-done:
		if parent.Err() != nil {
			r.release(e, wait) // stopped by Run's end or Close: not the check's verdict
		} else {
			r.record(e, wait, err, time.Since(start))
		}
	case <-ctx.Done():
		if parent.Err() != nil {
			r.release(e, wait)
		} else {
			err := fmt.Errorf("health: check %q timed out after %v", e.c.Name, e.c.Timeout)
			r.record(e, wait, err, time.Since(start))
		}
		<-done // the abandoned func; nothing more to record
	}
	e.mu.Lock()
	e.running = false
	e.mu.Unlock()
	close(idle)
}

// call runs the check func, turning a panic into an error.
func call(ctx context.Context, c Check) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("health: check %q panicked: %v", c.Name, p)
		}
	}()
	return c.Check(ctx)
}

// record stores a run's result, wakes waiting probes, updates metrics, logs a state
// change and notifies watchers.
func (r *Registry) record(e *entry, wait chan struct{}, err error, d time.Duration) {
	now := time.Now()
	ttl := e.c.CacheTTL
	if e.c.Period > 0 {
		ttl = e.c.Period + e.c.Timeout
	}
	e.mu.Lock()
	if e.wait != wait {
		e.mu.Unlock()
		return
	}
	prev := e.last.Load()
	had := prev != nil
	hadPass := had && prev.res.Err == nil
	e.last.Store(&snapshot{res: Result{Err: err, Duration: d, Time: now}, expires: now.Add(ttl)})
	e.wait = nil
	e.mu.Unlock()
	// Wake waiting probes last, so that metrics, log and watchers are up to date when
	// they return.
	defer close(wait)

	pass := err == nil
	r.metrics.observe(e, pass, d)
	if had && hadPass == pass {
		return
	}
	switch {
	case !pass:
		r.log.Warn("health: check failing", "check", e.c.Name, "kinds", e.c.Kinds.String(),
			"dependency", e.c.Dependency, "critical", e.critical, "duration", d, "error", err)
	case had:
		r.log.Info("health: check recovered", "check", e.c.Name, "duration", d)
	default:
		r.log.Debug("health: check passing", "check", e.c.Name, "duration", d)
	}
	r.mu.Lock()
	r.notifyLocked()
	r.mu.Unlock()
}

// release wakes the probes waiting on wait without recording a result: the run was
// cancelled by its parent (Run's end or Close), which says nothing about the dependency.
func (r *Registry) release(e *entry, wait chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.wait == wait {
		e.wait = nil
		close(wait)
	}
}

// begin returns e's fresh result, or starts a run when the result is stale and none is in
// flight and returns the channel that closes when the run records its result (nil when
// the in-flight run was already abandoned at its timeout, or the registry is closed).
func (r *Registry) begin(e *entry, now time.Time) (res Result, fresh bool, wait chan struct{}) {
	if s := e.last.Load(); s != nil && now.Before(s.expires) {
		return s.res, true, nil // the probe path: no lock
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.last.Load(); s != nil && now.Before(s.expires) {
		return s.res, true, nil
	}
	if !e.running {
		r.startLocked(e, r.base)
	}
	return e.cached(), false, e.wait
}

// errProbeWait is the cause of a probe context ended by Options.ProbeWait.
var errProbeWait = errors.New("health: probe wait over")

// probeContext returns ctx bounded by the probe wait (see Options.ProbeWait); finish
// tells its end from the caller's by its cause.
func (r *Registry) probeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.probeWait <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, r.probeWait, errProbeWait)
}

// finish waits for wait (from begin) to close or ctx to end and returns the result. When
// ctx (from probeContext) ended by the probe wait, a check still running is failed;
// when the caller's context ended, the last result is kept.
func (r *Registry) finish(ctx context.Context, e *entry, stale Result, wait chan struct{}) Result {
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			if context.Cause(ctx) == errProbeWait {
				return Result{
					Err:      fmt.Errorf("health: check %q still running after %v", e.c.Name, r.probeWait),
					Duration: r.probeWait,
					Time:     time.Now(),
				}
			}
			if stale.Err == errNotRun {
				return Result{Err: fmt.Errorf("health: probe ended before check %q finished: %w", e.c.Name, ctx.Err())}
			}
			return stale
		}
	}
	if s := e.last.Load(); s != nil {
		return s.res
	}
	return stale
}

// cached returns e's last result without running it.
func (e *entry) cached() Result {
	if s := e.last.Load(); s != nil {
		return s.res
	}
	return Result{Err: errNotRun}
}
