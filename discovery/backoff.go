package discovery

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Bounds of a [Backoff]'s wait.
const (
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

// Backoff paces the retries of a backend's watch loop after failures: the wait starts at
// [MinBackoff] and doubles after each failure up to [MaxBackoff], each wait drawn within
// ±20% so that the clients of a registry that comes back do not retry in step; Reset
// after a success starts over. It is the one backoff of Paved's watch loops (the
// catalog client's and the Consul backend's instancers), built on cenkalti/backoff.
//
// A Backoff is not safe for concurrent use: each loop has its own. Its zero value is not
// usable; call [NewBackoff].
type Backoff struct {
	b backoff.ExponentialBackOff
}

// NewBackoff returns a Backoff at its first wait.
func NewBackoff() *Backoff {
	b := &Backoff{b: backoff.ExponentialBackOff{
		InitialInterval:     MinBackoff,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         MaxBackoff,
	}}
	b.b.Reset()
	return b
}

// Next returns the next wait and lengthens the one after it.
func (b *Backoff) Next() time.Duration { return b.b.NextBackOff() }

// Wait sleeps the next wait, or until ctx ends; it reports false when ctx ended.
func (b *Backoff) Wait(ctx context.Context) bool { return sleep(ctx, b.Next()) }

// Reset starts over at the first wait, after a success.
func (b *Backoff) Reset() { b.b.Reset() }
