package health

import "context"

// subscriber is one Watch: the status of a set, or of one check when name is set.
type subscriber struct {
	kind Kind
	name string
	ch   chan Status
	last Status
}

// Watch returns a channel that receives the status of the set kind (as Status reports
// it) now and after every change, until ctx ends; then it is closed. Delivery is
// latest-only: a slow reader misses intermediate values, never the last one. On-demand
// checks change only when something evaluates them (a probe, Evaluate); periodic checks
// and the started/shutdown gates change on their own.
func (r *Registry) Watch(ctx context.Context, kind Kind) <-chan Status {
	ch, _ := r.watch(ctx, kind, "")
	return ch
}

// WatchCheck is Watch for the single check (or gate) name of the set kind. It returns
// ErrUnknownCheck when name is not in the set.
func (r *Registry) WatchCheck(ctx context.Context, kind Kind, name string) (<-chan Status, error) {
	if name == "" {
		return nil, r.unknown(kind, name)
	}
	return r.watch(ctx, kind, name)
}

func (r *Registry) watch(ctx context.Context, kind Kind, name string) (<-chan Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.cachedStatus(kind, name)
	if !ok {
		return nil, r.unknown(kind, name)
	}
	s := &subscriber{kind: kind, name: name, ch: make(chan Status, 1), last: st}
	s.ch <- st
	r.subs[s] = struct{}{}
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.subs, s)
		close(s.ch)
	})
	return s.ch, nil
}

// notifyLocked sends every watcher its status when it changed. r.mu is held.
func (r *Registry) notifyLocked() {
	for s := range r.subs {
		st, _ := r.cachedStatus(s.kind, s.name)
		if st == s.last {
			continue
		}
		s.last = st
		select { // latest only: drop an unread older value
		case <-s.ch:
		default:
		}
		s.ch <- st
	}
}
