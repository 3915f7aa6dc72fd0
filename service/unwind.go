package service

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// stage is one step of [Service.Run] that has started, with what undoes it.
type stage struct {
	name string
	// own means the stage bounds its stop itself (deregistration, the drain delay, the
	// telemetry flush); every other stage shares the SHUTDOWN_TIMEOUT context.
	own  bool
	stop func(ctx context.Context) error
}

// stack is Run's one unwind path: each step pushes its stage once it has started, and
// unwind stops the stages last first, every one of them even when one fails (as
// oklog/run and uber-go/fx do). It is not safe for concurrent use; Run owns it.
type stack struct {
	stages []stage
}

// push adds a stage whose stop runs under the shared SHUTDOWN_TIMEOUT context.
func (st *stack) push(name string, stop func(ctx context.Context) error) {
	st.stages = append(st.stages, stage{name: name, stop: stop})
}

// pushOwn adds a stage that bounds its own stop; it gets base, without a deadline.
func (st *stack) pushOwn(name string, stop func(ctx context.Context) error) {
	st.stages = append(st.stages, stage{name: name, own: true, stop: stop})
}

// unwind stops every stage, last pushed first, and joins their errors. The shared
// context of timeout starts when the first stage that uses it runs, so the stages
// that bound themselves before it (deregistration, the drain delay) do not eat it.
// Each stage's stop is logged at debug level with its duration, to find a slow stop.
func (st *stack) unwind(base context.Context, timeout time.Duration, log *slog.Logger) error {
	var shared context.Context
	var errs []error
	for i := len(st.stages) - 1; i >= 0; i-- {
		sg := st.stages[i]
		ctx := base
		if !sg.own {
			if shared == nil {
				var cancel context.CancelFunc
				shared, cancel = context.WithTimeout(base, timeout)
				defer cancel() // once: shared is set from here on
			}
			ctx = shared
		}
		t := time.Now()
		errs = append(errs, sg.stop(ctx))
		log.Debug("stage stopped", "stage", sg.name, "duration", time.Since(t).String())
	}
	st.stages = nil
	return errors.Join(errs...)
}
