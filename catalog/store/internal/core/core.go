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

// ViewAt is View at now: an instance whose last heartbeat is older than its TTL is
// critical with Expired set even before a sweep marks it, so that a store never lists
// it passing (after a restart on old data, or between sweeps).
func (r *Record) ViewAt(now time.Time) catalog.Instance {
	if !r.Expired && !now.Before(r.Instance.LastHeartbeat.Add(r.Instance.TTL())) {
		e := *r
		e.Expired = true
		return e.View()
	}
	return r.View()
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

// Due says what the sweep of a store opened at opened must do with r at now. It removes
// r after its TTL and grace period, but never before opened plus its TTL: an instance
// whose heartbeats could not reach a catalog that was down has one full TTL after the
// restart to heartbeat again.
func Due(r *Record, now, opened time.Time, grace time.Duration) (expire, remove bool) {
	ttl := r.Instance.TTL()
	deadline := r.Instance.LastHeartbeat.Add(ttl)
	removal := deadline.Add(Grace(grace, &r.Instance))
	if floor := opened.Add(ttl); removal.Before(floor) {
		removal = floor
	}
	if !now.Before(removal) {
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
