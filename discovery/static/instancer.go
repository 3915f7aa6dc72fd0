package static

import (
	"sync"

	"github.com/paved-road/paved/discovery"
)

// Instancer is a [discovery.Instancer] over a fixed list or a [Registry]. It is safe for
// concurrent use.
type Instancer struct {
	*discovery.Cache
	stop     func()
	stopOnce sync.Once
}

var _ discovery.Instancer = (*Instancer)(nil)

// NewInstancer returns an instancer that always holds instances (the ready ones, as
// [discovery.Cache] filters them).
func NewInstancer(instances []discovery.Instance, opts ...discovery.CacheOption) *Instancer {
	in := &Instancer{Cache: discovery.NewCache(opts...)}
	in.Update(instances, nil)
	return in
}

// Stop detaches the instancer from its registry and closes its subscriptions.
func (in *Instancer) Stop() {
	in.stopOnce.Do(func() {
		if in.stop != nil {
			in.stop()
		}
		in.Cache.Stop()
	})
}
