package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-kit/kit/sd"

	"github.com/paved-road/paved/discovery"
)

// Instancer follows a component's healthy instances with the catalog's long poll and
// feeds them to a [discovery.Cache]: it is a [discovery.Instancer], and a go-kit
// sd.Instancer, so sd.NewEndpointer and the lb package work on it. While the catalog is
// unreachable it keeps the last known set (and reports the error), retrying with a
// [discovery.Backoff]. Stop it when done.
type Instancer struct {
	*discovery.Cache
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

var (
	_ discovery.Instancer = (*Instancer)(nil)
	_ sd.Instancer        = (*Instancer)(nil)
)

// watchWait is how long one long poll waits for a change.
const watchWait = 30 * time.Second

// notFoundPoll is how often the instancer asks again for a component the catalog does
// not know: a long poll needs the component to exist.
const notFoundPoll = 500 * time.Millisecond

// Instancer starts following the named component's healthy instances.
func (c *Client) Instancer(component string, opts ...discovery.CacheOption) *Instancer {
	ctx, cancel := context.WithCancel(context.Background())
	in := &Instancer{Cache: discovery.NewCache(opts...), cancel: cancel, done: make(chan struct{})}
	go in.loop(ctx, c, component)
	return in
}

func (in *Instancer) loop(ctx context.Context, c *Client, component string) {
	defer close(in.done)
	var index uint64
	backoff := discovery.NewBackoff()
	for ctx.Err() == nil {
		set, err := c.watch(ctx, component, false, index, watchWait)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrNotFound) {
			// The component is not registered (yet, or any more): it has no instances.
			// That is an answer, not an outage; poll again after a while.
			in.Update([]discovery.Instance{}, nil)
			index = 0
			select {
			case <-ctx.Done():
				return
			case <-time.After(notFoundPoll):
			}
			continue
		}
		if err != nil {
			in.Update(nil, err) // the cache keeps the last known set
			if !backoff.Wait(ctx) {
				return
			}
			continue
		}
		backoff.Reset()
		all := make([]discovery.Instance, 0, len(set.Instances))
		for _, ci := range set.Instances {
			all = append(all, discovery.Instance{
				ID: ci.ID, Service: ci.Component, Version: ci.Version,
				Addresses: discovery.Addresses{HTTP: ci.Addresses.HTTP, Admin: ci.Addresses.Admin, GRPC: ci.Addresses.GRPC},
				Status:    ci.Status,
				Metadata:  ci.Metadata,
			})
		}
		in.Update(all, nil)
		if set.Index < index { // the catalog restarted: start over
			index = 0
			continue
		}
		index = set.Index
		if index == 0 { // nothing to wait on yet: do not spin
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// Stop ends the long poll and closes the subscriptions.
func (in *Instancer) Stop() {
	in.once.Do(func() {
		in.cancel()
		<-in.done
		in.Cache.Stop()
	})
}
