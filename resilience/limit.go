package resilience

import (
	"context"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// bulkhead caps concurrent calls with a semaphore and an optional queue.
type bulkhead struct {
	sem      chan struct{}
	maxQueue int64
	maxWait  time.Duration
	queued   atomic.Int64
}

func newBulkhead(c BulkheadConfig) *bulkhead {
	return &bulkhead{sem: make(chan struct{}, c.MaxConcurrent), maxQueue: int64(c.MaxQueue), maxWait: c.MaxWait}
}

// acquire takes a slot, waiting in the queue up to maxWait when allowed. It
// returns ErrBulkheadFull or ctx's error when it could not.
func (b *bulkhead) acquire(ctx context.Context) error {
	select {
	case b.sem <- struct{}{}:
		return nil
	default:
	}
	if b.maxQueue == 0 {
		return ErrBulkheadFull
	}
	if b.queued.Add(1) > b.maxQueue {
		b.queued.Add(-1)
		return ErrBulkheadFull
	}
	defer b.queued.Add(-1)
	t := time.NewTimer(b.maxWait)
	defer t.Stop()
	select {
	case b.sem <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBulkheadFull
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *bulkhead) release() { <-b.sem }

// limiter is a token bucket (golang.org/x/time/rate) with a wait limit.
type limiter struct {
	name    string
	lim     *rate.Limiter
	rate    float64
	maxWait time.Duration
}

func newLimiter(name string, c RateLimitConfig) *limiter {
	return &limiter{name: name, lim: rate.NewLimiter(rate.Limit(c.Rate), c.Burst), rate: c.Rate, maxWait: c.MaxWait}
}

// take takes a token, waiting up to maxWait (and never past ctx's
// deadline) for one. It returns a *RateLimitError or ctx's error when it
// could not.
func (l *limiter) take(ctx context.Context) error {
	if l.lim.Allow() {
		return nil
	}
	if l.maxWait <= 0 {
		missing := 1 - l.lim.Tokens()
		return &RateLimitError{Name: l.name, Wait: time.Duration(missing / l.rate * float64(time.Second))}
	}
	now := time.Now()
	r := l.lim.ReserveN(now, 1)
	if !r.OK() {
		return &RateLimitError{Name: l.name, Wait: l.maxWait}
	}
	d := r.DelayFrom(now)
	if d == 0 {
		return nil
	}
	dl, hasDeadline := ctx.Deadline()
	if d > l.maxWait || (hasDeadline && now.Add(d).After(dl)) {
		r.CancelAt(now)
		return &RateLimitError{Name: l.name, Wait: d}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}
