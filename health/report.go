package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CheckResult is one check's line in a Report.
type CheckResult struct {
	Name       string
	Status     Status // pass, warn (a non-critical check failed) or fail
	Err        error  // the cause; shown publicly only with Options.ShowDetails
	Duration   time.Duration
	Time       time.Time // when the run ended; zero for the built-in gates
	Critical   bool
	Dependency string
	Excluded   bool // skipped by an exclude; does not count
	Builtin    bool // the "started" or "shutdown" gate; Err is not secret
}

// Report is the outcome of a probe set.
type Report struct {
	Kind   Kind
	Status Status
	Checks []CheckResult
}

// ErrUnknownCheck is returned for a check name that is not in the requested set.
var ErrUnknownCheck = errors.New("health: unknown check")

// Evaluate answers the set kind (AllKinds for everything), as a probe does: fresh results
// come from the cache, stale ones are run (at most one run per check in flight) and
// waited for until their timeout, Options.ProbeWait (a check still running then is
// failed) or ctx ends (the last result is kept). Names in exclude are skipped; an unknown
// name in exclude is an ErrUnknownCheck error.
func (r *Registry) Evaluate(ctx context.Context, kind Kind, exclude ...string) (Report, error) {
	return r.evaluate(ctx, kind, exclude, nil)
}

// evaluate is Evaluate appending the results to dst[:0].
func (r *Registry) evaluate(ctx context.Context, kind Kind, exclude []string, dst []CheckResult) (Report, error) {
	list := *r.list.Load()
	for _, x := range exclude {
		if x == startedName || x == shutdownName {
			return Report{}, fmt.Errorf("%w %q: the built-in gates started and shutdown cannot be excluded", ErrUnknownCheck, x)
		}
		if !r.inSet(list, kind, x) {
			return Report{}, r.unknown(kind, x)
		}
	}
	if dst == nil {
		dst = make([]CheckResult, 0, len(list)+2)
	}
	rep := Report{Kind: kind, Status: StatusPass, Checks: dst[:0]}
	r.gates(&rep)
	now := time.Now()
	type pending struct {
		i     int
		e     *entry
		stale Result
		wait  chan struct{}
	}
	var waits []pending
	for _, e := range list {
		if e.c.Kinds&kind == 0 {
			continue
		}
		cr := CheckResult{Name: e.c.Name, Critical: e.critical, Dependency: e.c.Dependency}
		if slices.Contains(exclude, e.c.Name) {
			cr.Excluded = true
			cr.Status = StatusPass
			rep.Checks = append(rep.Checks, cr)
			continue
		}
		res, fresh, wait := r.begin(e, now)
		if !fresh && wait != nil {
			waits = append(waits, pending{len(rep.Checks), e, res, wait})
		}
		cr.fill(res)
		rep.Checks = append(rep.Checks, cr)
	}
	if len(waits) > 0 {
		wctx, cancel := r.probeContext(ctx)
		for _, p := range waits {
			rep.Checks[p.i].fill(r.finish(wctx, p.e, p.stale, p.wait))
		}
		cancel()
	}
	rep.summarize()
	return rep, nil
}

// EvaluateCheck answers one check (or built-in gate) of the set kind, as /<set>/<name>
// does. It returns ErrUnknownCheck when name is not in the set.
func (r *Registry) EvaluateCheck(ctx context.Context, kind Kind, name string) (CheckResult, error) {
	if kind&(Readiness|Startup) != 0 && (name == startedName || name == shutdownName) {
		rep := Report{Kind: kind}
		r.gates(&rep)
		for _, c := range rep.Checks {
			if c.Name == name {
				return c, nil
			}
		}
	}
	for _, e := range *r.list.Load() {
		if e.c.Name != name || e.c.Kinds&kind == 0 {
			continue
		}
		cr := CheckResult{Name: name, Critical: e.critical, Dependency: e.c.Dependency}
		res, fresh, wait := r.begin(e, time.Now())
		if !fresh && wait != nil {
			wctx, cancel := r.probeContext(ctx)
			res = r.finish(wctx, e, res, wait)
			cancel()
		}
		cr.fill(res)
		return cr, nil
	}
	return CheckResult{}, r.unknown(kind, name)
}

// Status returns the status of the set kind from the last results, without running
// anything; a check that has not run yet counts as failed. Watch reports the same value.
func (r *Registry) Status(kind Kind) Status {
	st, _ := r.cachedStatus(kind, "")
	return st
}

// cachedStatus is the status of the set kind, or of the single check name when name is
// not empty (ok false when it is unknown), from the last results.
func (r *Registry) cachedStatus(kind Kind, name string) (Status, bool) {
	rep := Report{Kind: kind}
	if name == "" || name == startedName || name == shutdownName {
		r.gates(&rep)
	}
	found := name == ""
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status, true
		}
	}
	for _, e := range *r.list.Load() {
		if e.c.Kinds&kind == 0 || (name != "" && e.c.Name != name) {
			continue
		}
		found = true
		cr := CheckResult{Critical: e.critical}
		cr.fill(e.cached())
		rep.Checks = append(rep.Checks, cr)
	}
	if !found {
		return StatusFail, false
	}
	rep.summarize()
	return rep.Status, true
}

// gates appends the built-in started and shutdown gates when the set includes
// readiness or startup.
func (r *Registry) gates(rep *Report) {
	if rep.Kind&(Readiness|Startup) == 0 {
		return
	}
	started := CheckResult{Name: startedName, Status: StatusPass, Critical: true, Builtin: true}
	if !r.started.Load() {
		started.Status, started.Err = StatusFail, errors.New("not started yet")
	}
	down := CheckResult{Name: shutdownName, Status: StatusPass, Critical: true, Builtin: true}
	if r.shutdown.Load() {
		down.Status, down.Err = StatusFail, errors.New("shutting down")
	}
	rep.Checks = append(rep.Checks, started, down)
}

func (c *CheckResult) fill(res Result) {
	c.Err, c.Duration, c.Time = res.Err, res.Duration, res.Time
	switch {
	case res.Err == nil:
		c.Status = StatusPass
	case c.Critical:
		c.Status = StatusFail
	default:
		c.Status = StatusWarn
	}
}

func (rep *Report) summarize() {
	rep.Status = StatusPass
	for _, c := range rep.Checks {
		if c.Excluded {
			continue
		}
		if c.Status == StatusFail {
			rep.Status = StatusFail
			return
		}
		if c.Status == StatusWarn {
			rep.Status = StatusWarn
		}
	}
}

func (r *Registry) inSet(list []*entry, kind Kind, name string) bool {
	for _, e := range list {
		if e.c.Name == name && e.c.Kinds&kind != 0 {
			return true
		}
	}
	return false
}

func (r *Registry) unknown(kind Kind, name string) error {
	valid := r.sortedNames(kind)
	if len(valid) == 0 {
		return fmt.Errorf("%w %q: the %s set has no checks", ErrUnknownCheck, name, kind)
	}
	return fmt.Errorf("%w %q in the %s set; registered: %s", ErrUnknownCheck, name, kind, strings.Join(valid, ", "))
}
