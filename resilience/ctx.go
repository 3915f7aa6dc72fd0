package resilience

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is a context with a deadline that allocates once: unlike
// context.WithDeadline it creates its done channel, its timer and its link
// to the parent only when Done or AfterFunc is first called. A callee that
// never selects on Done (most in-process calls) costs one allocation
// instead of four.
//
// It follows the context.Context contract: Err is nil until Done is closed
// (Err closes Done itself when it finds the deadline passed or the parent
// done), then stays the same non-nil error. context.Cause works through the
// standard library's fallback for custom contexts.
//
// It has an AfterFunc method, which the context package uses to link a
// child (context.WithCancel and the like, as net/http's Transport and
// grpc-go do on every call) without starting a goroutine per child.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu         sync.Mutex
	done       chan struct{} // nil until Done or AfterFunc is called
	err        error
	timer      *time.Timer // armed by Done or AfterFunc
	stopParent func() bool // set by arming when parent can end
	afters     *afterFunc  // registered by AfterFunc, newest first
}

// afterFunc is a function registered with deadlineCtx.AfterFunc.
type afterFunc struct {
	c    *deadlineCtx
	f    func() // guarded by c.mu; nil once started or stopped
	next *afterFunc
}

// stop unregisters a; it reports whether it stopped a from running.
func (a *afterFunc) stop() bool {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	if a.f == nil {
		return false
	}
	a.f = nil
	return true
}

// startLocked starts a's function unless it was stopped or started.
func (a *afterFunc) startLocked() {
	if a.f != nil {
		go a.f()
		a.f = nil
	}
}

var (
	_ context.Context = (*deadlineCtx)(nil)
	// The context package links children through this method instead of a
	// goroutine (its unexported afterFuncer interface).
	_ interface {
		AfterFunc(func()) func() bool
	} = (*deadlineCtx)(nil)
)

func newDeadlineCtx(parent context.Context, deadline time.Time) *deadlineCtx {
	return &deadlineCtx{parent: parent, deadline: deadline}
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Value(key any) any { return c.parent.Value(key) }

func (c *deadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked()
	return c.done
}

// AfterFunc arranges for f to run in its own goroutine once c ends, as
// context.AfterFunc does; stop unregisters f and reports whether it
// stopped f from running.
func (c *deadlineCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armLocked()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{c: c, f: f, next: c.afters}
	c.afters = a
	return a.stop
}

// armLocked creates the done channel and, unless c already ended, the
// timer and the parent link. The caller holds mu.
func (c *deadlineCtx) armLocked() {
	if c.done != nil {
		return
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.checkLocked()
	}
	if c.err != nil {
		close(c.done)
		return
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), c.expire)
	if c.parent.Done() != nil {
		c.stopParent = context.AfterFunc(c.parent, c.parentDone)
	}
}

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if err := c.checkedErr(); err != nil {
			c.endLocked(err)
		}
	}
	return c.err
}

// checkLocked sets err when the parent ended or the deadline passed; the
// caller holds mu and has not armed c.
func (c *deadlineCtx) checkLocked() { c.err = c.checkedErr() }

// checkedErr returns the parent's error, DeadlineExceeded when the deadline
// passed, or nil.
func (c *deadlineCtx) checkedErr() error {
	if err := c.parent.Err(); err != nil {
		return err
	} else if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *deadlineCtx) expire()     { c.cancel(context.DeadlineExceeded) }
func (c *deadlineCtx) parentDone() { c.cancel(c.parent.Err()) }

// release ends the context (context.Canceled unless it already ended) and
// frees its timer and parent link. Policies call it when the call is over.
func (c *deadlineCtx) release() { c.cancel(context.Canceled) }

func (c *deadlineCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		c.stopLocked()
		return
	}
	c.endLocked(err)
}

// endLocked ends c with err: it frees the timer and the parent link, closes
// Done if it was made and starts the functions registered with AfterFunc.
// The caller holds mu and c has not ended.
func (c *deadlineCtx) endLocked(err error) {
	c.err = err
	c.stopLocked()
	if c.done != nil {
		close(c.done)
	}
	for a := c.afters; a != nil; a = a.next {
		a.startLocked()
	}
	c.afters = nil
}

func (c *deadlineCtx) stopLocked() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.stopParent != nil {
		c.stopParent()
		c.stopParent = nil
	}
}
