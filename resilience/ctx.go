package resilience

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is a context with a deadline that allocates once: unlike
// context.WithDeadline it creates its done channel, its timer and its link
// to the parent only when Done is first called. A callee that never selects
// on Done (most in-process calls) costs one allocation instead of four.
//
// It follows the context.Context contract: Err is nil until Done is closed
// (Err closes Done itself when it finds the deadline passed or the parent
// done), then stays the same non-nil error. context.Cause works through the
// standard library's fallback for custom contexts.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu         sync.Mutex
	done       chan struct{} // nil until Done is called
	err        error
	timer      *time.Timer // armed by Done
	stopParent func() bool // set by Done when parent can end
}

var _ context.Context = (*deadlineCtx)(nil)

func newDeadlineCtx(parent context.Context, deadline time.Time) *deadlineCtx {
	return &deadlineCtx{parent: parent, deadline: deadline}
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Value(key any) any { return c.parent.Value(key) }

func (c *deadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.checkLocked()
	}
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), c.expire)
	if c.parent.Done() != nil {
		c.stopParent = context.AfterFunc(c.parent, c.parentDone)
	}
	return c.done
}

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.checkLocked()
		if c.err != nil && c.done != nil {
			c.stopLocked()
			close(c.done)
		}
	}
	return c.err
}

// checkLocked sets err when the parent ended or the deadline passed.
func (c *deadlineCtx) checkLocked() {
	if err := c.parent.Err(); err != nil {
		c.err = err
	} else if !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
	}
}

func (c *deadlineCtx) expire()     { c.cancel(context.DeadlineExceeded) }
func (c *deadlineCtx) parentDone() { c.cancel(c.parent.Err()) }

// release ends the context (context.Canceled unless it already ended) and
// frees its timer and parent link. Policies call it when the call is over.
func (c *deadlineCtx) release() { c.cancel(context.Canceled) }

func (c *deadlineCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
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
