package server

import (
	"context"
	"sync"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// changes counts the catalog's writes beyond instance sets (components, scorecards,
// deployment events and histories, API versions) and wakes whoever waits for the next
// one: the UI's live-update stream, which the store's Watch wakes on instance changes
// only. Each Server has its own. The zero value is ready to use.
type changes struct {
	mu    sync.Mutex
	count uint64
	ch    chan struct{} // closed by the next notify; nil until someone waits
}

func (c *changes) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count++
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}

// wait returns the count once it is above after, or ctx's error.
func (c *changes) wait(ctx context.Context, after uint64) (uint64, error) {
	for {
		c.mu.Lock()
		n := c.count
		if n > after || after > n { // ahead: a count from another server or process
			c.mu.Unlock()
			return n, nil
		}
		if c.ch == nil {
			c.ch = make(chan struct{})
		}
		ch := c.ch
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// WaitChange returns the count of the catalog's writes other than instances'
// (components, scorecards, deployment events, histories, API versions) made through
// this Server, as soon as it is above after: at once when it already is, or when
// after is ahead of it (a count from another process); else when such a write
// happens, or ctx's error when ctx ends first. WaitChange(ctx, 0) on a fresh Server
// waits for the first write; the count starts at 0. The UI's live updates (GET
// /events) use it beside the store's Watch, which wakes on instance changes only.
// Writes another catalog replica makes to a shared store do not wake it.
func (s *Server) WaitChange(ctx context.Context, after uint64) (uint64, error) {
	return s.changes.wait(ctx, after)
}

// ChangeCount returns the count [Server.WaitChange] waits on.
func (s *Server) ChangeCount() uint64 {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	return s.changes.count
}

// notifyingStore counts the writes to st that are not instances' in ch: every write
// the server makes goes through it (the API's handlers, the fleet tracker, the kept
// scorecards).
type notifyingStore struct {
	store.Store
	ch *changes
}

func (n notifyingStore) PutComponent(ctx context.Context, c catalog.Component) (bool, error) {
	created, err := n.Store.PutComponent(ctx, c)
	if err == nil {
		n.ch.notify()
	}
	return created, err
}

func (n notifyingStore) DeleteComponent(ctx context.Context, name string) error {
	err := n.Store.DeleteComponent(ctx, name)
	if err == nil {
		n.ch.notify()
	}
	return err
}

func (n notifyingStore) PutScorecard(ctx context.Context, sc catalog.Scorecard) error {
	err := n.Store.PutScorecard(ctx, sc)
	if err == nil {
		n.ch.notify()
	}
	return err
}

func (n notifyingStore) UpdateHistory(ctx context.Context, component, env string, fn func(*catalog.History) (bool, error)) (catalog.History, error) {
	wrote := false
	h, err := n.Store.UpdateHistory(ctx, component, env, func(h *catalog.History) (bool, error) {
		w, err := fn(h)
		wrote = w && err == nil // the last run is the one stored
		return w, err
	})
	if err == nil && wrote {
		n.ch.notify()
	}
	return h, err
}

func (n notifyingStore) PutAPIVersion(ctx context.Context, v catalog.APIVersion, definition []byte) (bool, error) {
	created, err := n.Store.PutAPIVersion(ctx, v, definition)
	if err == nil && created {
		n.ch.notify()
	}
	return created, err
}
