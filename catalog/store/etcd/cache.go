package etcd

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/catalog/store/internal/core"
)

// instKey names an instance in the heartbeat cache: component, id.
type instKey [2]string

// known is what this store learned of an instance at an etcd revision: by a registration
// or heartbeat through it. A placeholder (rev 0) stands for a registration or heartbeat
// under way; the watch records on it the newest change it sees, so that what the call
// learned is kept only when nothing changed the instance after the call read it.
type known struct {
	rev    int64 // the revision the rest is true at; 0 for a placeholder
	rec    core.Record
	l1, l2 clientv3.LeaseID // the leases of the record and of the alive key
	// newest is the revision of the latest change to the instance's rec or alive key the
	// watch saw while this was a placeholder.
	newest int64
}

// cached returns what the store knows of the instance, or nil.
func (s *Store) cached(k instKey) *known {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if e := s.cache[k]; e != nil && e.rev != 0 {
		return e
	}
	return nil
}

// reserve puts a placeholder for k, which learn replaces with what the call learned.
func (s *Store) reserve(k instKey) *known {
	p := &known{}
	s.cacheMu.Lock()
	s.cache[k] = p
	s.cacheMu.Unlock()
	return p
}

// learn replaces the placeholder p with e, unless the placeholder is gone (another call
// for k, a deletion, the cache cleared) or the watch saw a change after e.rev; else it
// drops the placeholder.
func (s *Store) learn(k instKey, p, e *known) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.cache[k] != p {
		return
	}
	if e == nil || p.newest > e.rev {
		delete(s.cache, k)
		return
	}
	s.cache[k] = e
}

// forget drops what the store knows of k, if it is still e (any entry when e is nil).
func (s *Store) forget(k instKey, e *known) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if e == nil || s.cache[k] == e {
		delete(s.cache, k)
	}
}

// forgetComponent drops what the store knows of a component's instances.
func (s *Store) forgetComponent(comp string) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	for k := range s.cache {
		if k[0] == comp {
			delete(s.cache, k)
		}
	}
}

// changed applies a change to an instance's rec or alive key at revision rev, from any
// catalog process: what the store knew from before rev is dropped.
func (s *Store) changed(k instKey, rev int64) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	e := s.cache[k]
	switch {
	case e == nil:
	case e.rev == 0:
		e.newest = max(e.newest, rev)
	case rev > e.rev:
		delete(s.cache, k)
	}
}

// clearCache drops everything the store knows, placeholders included.
func (s *Store) clearCache() {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	clear(s.cache)
}

// watchLoop keeps the cache coherent with writes from every catalog process: it watches
// the instance keys and applies each change to a rec or alive key. It first reads the
// current revision and clears the cache, so that whatever is learned after was read at
// that revision or later, and watches from there. When the watch breaks it clears the
// cache again (a change may go unseen while it is down) and watches again from the
// revision after the last event, or from the compaction revision when the history it
// needs is gone.
func (s *Store) watchLoop(ctx context.Context) {
	defer close(s.watchDone)
	var from int64
	for ctx.Err() == nil {
		if from == 0 {
			resp, err := s.cli.Get(ctx, s.prefix, clientv3.WithCountOnly())
			if err == nil {
				s.clearCache()
				from = resp.Header.Revision + 1
			}
		}
		if from != 0 {
			wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), s.prefix+"i/", clientv3.WithPrefix(), clientv3.WithRev(from))
			for resp := range wch {
				if resp.CompactRevision != 0 {
					s.clearCache()
					from = resp.CompactRevision
					break
				}
				if resp.Err() != nil {
					break
				}
				for _, ev := range resp.Events {
					comp, id, kind, ok := s.parseInstKey(ev.Kv.Key)
					if ok && (kind == "rec" || kind == "alive") {
						s.changed(instKey{comp, id}, ev.Kv.ModRevision)
					}
					from = max(from, ev.Kv.ModRevision+1)
				}
			}
			s.clearCache()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
