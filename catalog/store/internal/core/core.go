package core

import (
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
)

// Record is an instance as stored: its reported status and whether it expired.
type Record struct {
	Instance catalog.Instance `json:"instance"`          // as reported, with the last heartbeat time
	Expired  bool             `json:"expired,omitempty"` // missed heartbeats for its TTL
}

// View returns the instance as readers see it: critical with Expired set when it expired.
func (r *Record) View() catalog.Instance {
	in := r.Instance
	in.Metadata = maps.Clone(in.Metadata)
	in.Expired = r.Expired
	if r.Expired {
		in.Status = catalog.StatusCritical
	}
	return in
}

// Now is the store's clock reading: UTC, without the monotonic part, so that a value read
// back from a file or etcd compares equal.
func Now() time.Time { return time.Now().UTC().Round(0) }

// Grace is the grace period of an instance: g, or its TTL when g is 0.
func Grace(g time.Duration, in *catalog.Instance) time.Duration {
	if g > 0 {
		return g
	}
	return in.TTL()
}

// Due says what the sweep must do with r at now.
func Due(r *Record, now time.Time, grace time.Duration) (expire, remove bool) {
	deadline := r.Instance.LastHeartbeat.Add(r.Instance.TTL())
	if !now.Before(deadline.Add(Grace(grace, &r.Instance))) {
		return false, true
	}
	return !r.Expired && !now.Before(deadline), false
}

// SetChanged reports whether replacing old (nil: none) with new changes the instance set
// as watchers see it: anything but the heartbeat time.
func SetChanged(old *Record, new catalog.Instance) bool {
	if old == nil || old.Expired {
		return true
	}
	a, b := old.Instance, new
	return a.Version != b.Version || a.Addresses != b.Addresses || a.Status != b.Status ||
		a.TTLSeconds != b.TTLSeconds || !a.StartedAt.Equal(b.StartedAt) || !maps.Equal(a.Metadata, b.Metadata)
}

// NotFound returns an error wrapping store.ErrNotFound.
func NotFound(kind, name string) error {
	return fmt.Errorf("%w: %s %q", store.ErrNotFound, kind, name)
}

// Hub wakes watchers: Changed returns a channel that Notify closes.
// The zero Hub is ready to use; it is safe for concurrent use.
type Hub struct {
	mu sync.Mutex
	ch chan struct{}
}

// Changed returns the channel the next Notify closes.
func (h *Hub) Changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil {
		h.ch = make(chan struct{})
	}
	return h.ch
}

// Notify wakes everyone waiting on Changed.
func (h *Hub) Notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch != nil {
		close(h.ch)
		h.ch = nil
	}
}
