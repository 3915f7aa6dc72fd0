package bbolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// Options are a Store's settings. The zero value is ready to use.
type Options struct {
	// Grace is how long an expired instance stays listed as critical before it is
	// removed. Zero means the instance's TTL.
	Grace time.Duration
	// SweepInterval is how often expiry is checked. Zero means one second.
	SweepInterval time.Duration
	// LockTimeout is how long Open waits for another process to release the file. Zero
	// means one second.
	LockTimeout time.Duration
	// BatchDelay is how long a registration or heartbeat waits for others to share its
	// transaction and fsync. Zero means 2 ms.
	BatchDelay time.Duration
}

// Bucket and key names.
const (
	bComponents = "components" // name -> Component JSON
	bInstances  = "instances"  // component -> bucket: id -> core.Record JSON
	bScorecards = "scorecards" // component -> bucket: id -> Scorecard JSON
	bSetIndex   = "setindex"   // component -> uint64: index of its last set change
	bHeartbeats = "heartbeats" // "component/id" -> uint64: unix ns of its latest heartbeat
	bMeta       = "meta"       // kRev, kInstRev
	kRev        = "rev"
	kInstRev    = "instrev"
)

// Store is a [store.Store] in a bbolt file.
type Store struct {
	db     *bolt.DB
	grace  time.Duration
	opened time.Time // no instance is removed before opened plus its TTL (see core.Due)
	hub    core.Hub
	stop   chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	closed bool // guarded by mu

	compMu sync.Mutex
	// comps caches decoded components for GetComponent, which every heartbeat calls to
	// check the owner; compGen counts the writes that invalidate it. Both guarded by
	// compMu.
	comps   map[string]catalog.Component
	compGen uint64

	liveMu sync.RWMutex
	// live holds what the sweep needs of every instance, by "component/id", so that it
	// never scans the file; guarded by liveMu.
	live map[string]*liveEntry
}

// liveEntry is the in-memory state of an instance: its TTL, and what its record holds, so
// that a heartbeat which changes nothing but the time needs neither a read of the file
// nor a transaction of its own.
type liveEntry struct {
	inst    catalog.Instance // as its record holds it, but for the time
	hb      time.Time        // the latest heartbeat, written or not
	expired bool
	dirty   bool // hb is not written yet
	// busy is set while the sweep decides whether the instance expires: heartbeats then
	// go through a transaction, which waits for the sweep's and sees its outcome.
	busy bool
}

func newLiveEntry(in catalog.Instance, expired bool) *liveEntry {
	in.Metadata = maps.Clone(in.Metadata)
	return &liveEntry{inst: in, hb: in.LastHeartbeat, expired: expired}
}

func liveKey(comp, id string) string { return comp + "/" + id }

var _ store.Store = (*Store)(nil)

// Open opens or creates the store file at path and starts its expiry sweep; Close stops
// it and closes the file.
func Open(path string, opts Options) (*Store, error) {
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Second
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = 2 * time.Millisecond
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		return nil, fmt.Errorf("store/bbolt: open %s: %w", path, err)
	}
	db.MaxBatchDelay = opts.BatchDelay
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{bComponents, bInstances, bScorecards, bSetIndex, bMeta, bHeartbeats} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/bbolt: init %s: %w", path, err)
	}
	s := &Store{db: db, grace: opts.Grace, opened: core.Now(), stop: make(chan struct{}), done: make(chan struct{}), live: make(map[string]*liveEntry), comps: make(map[string]catalog.Component)}
	err = db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket([]byte(bInstances)).ForEachBucket(func(comp []byte) error {
			return tx.Bucket([]byte(bInstances)).Bucket(comp).ForEach(func(k, v []byte) error {
				var r core.Record
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("instance %s/%s: %w", comp, k, err)
				}
				s.live[liveKey(string(comp), string(k))] = newLiveEntry(r.Instance, r.Expired)
				return nil
			})
		})
		if err != nil {
			return err
		}
		return tx.Bucket([]byte(bHeartbeats)).ForEach(func(k, v []byte) error {
			if e := s.live[string(k)]; e != nil {
				if t := time.Unix(0, int64(u64(v))).UTC(); t.After(e.hb) {
					e.hb = t
				}
			}
			return nil
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/bbolt: load %s: %w", path, err)
	}
	go s.sweepLoop(opts.SweepInterval)
	return s, nil
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putU64(b *bolt.Bucket, k []byte, v uint64) error {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	return b.Put(k, buf[:])
}

// bump increments the change index in tx and returns it.
func bump(tx *bolt.Tx) (uint64, error) {
	m := tx.Bucket([]byte(bMeta))
	rev := u64(m.Get([]byte(kRev))) + 1
	return rev, putU64(m, []byte(kRev), rev)
}

// touch records a change of comp's instance set in tx.
func touch(tx *bolt.Tx, comp string) error {
	rev, err := bump(tx)
	if err != nil {
		return err
	}
	if err := putU64(tx.Bucket([]byte(bMeta)), []byte(kInstRev), rev); err != nil {
		return err
	}
	return putU64(tx.Bucket([]byte(bSetIndex)), []byte(comp), rev)
}

func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	return nil
}

func (s *Store) sweepLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.sweep(core.Now())
		}
	}
}

// sweep writes the pending heartbeats, then expires and removes the instances due at
// now. It finds both in memory; when there are none it does no I/O.
func (s *Store) sweep(now time.Time) error {
	pending := map[string]time.Time{}
	due := map[string]*liveEntry{}
	s.liveMu.Lock()
	for k, e := range s.live {
		if e.dirty {
			pending[k] = e.hb
			e.dirty = false
		}
		r := core.Record{Instance: e.inst, Expired: e.expired}
		r.Instance.LastHeartbeat = e.hb
		if expire, remove := core.Due(&r, now, s.opened, s.grace); expire || remove {
			due[k] = e
			e.busy = true
		}
	}
	s.liveMu.Unlock()
	if len(pending) == 0 && len(due) == 0 {
		return nil
	}
	var expired, removed []string
	touched := map[string]bool{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		expired, removed = nil, nil
		clear(touched)
		get := func(key string) (*bolt.Bucket, []byte, *core.Record) {
			comp, id, _ := strings.Cut(key, "/")
			b := tx.Bucket([]byte(bInstances)).Bucket([]byte(comp))
			if b == nil {
				return nil, nil, nil
			}
			v := b.Get([]byte(id))
			var r core.Record
			if v == nil || json.Unmarshal(v, &r) != nil {
				return nil, nil, nil
			}
			return b, []byte(id), &r
		}
		put := func(b *bolt.Bucket, id []byte, r *core.Record) error {
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			return b.Put(id, v)
		}
		// Heartbeat times go to their own bucket, 8 bytes each, so the records are not
		// rewritten. A pending heartbeat was taken in memory only while its record was
		// neither expired nor being expired (see heartbeat), so it cannot revive one.
		hbs := tx.Bucket([]byte(bHeartbeats))
		for key, t := range pending {
			comp, id, _ := strings.Cut(key, "/")
			if b := tx.Bucket([]byte(bInstances)).Bucket([]byte(comp)); b == nil || b.Get([]byte(id)) == nil {
				continue
			}
			if err := putU64(hbs, []byte(key), uint64(t.UnixNano())); err != nil {
				return err
			}
		}
		for key := range due {
			b, id, r := get(key)
			if r == nil {
				continue
			}
			// A heartbeat that came in since the scan above counts too.
			s.liveMu.RLock()
			if e := s.live[key]; e != nil && e.hb.After(r.Instance.LastHeartbeat) {
				r.Instance.LastHeartbeat = e.hb
			}
			s.liveMu.RUnlock()
			expire, remove := core.Due(r, now, s.opened, s.grace)
			switch {
			case remove:
				if err := b.Delete(id); err != nil {
					return err
				}
				if sb := tx.Bucket([]byte(bScorecards)).Bucket([]byte(r.Instance.Component)); sb != nil {
					if err := sb.Delete(id); err != nil {
						return err
					}
				}
				if err := hbs.Delete([]byte(key)); err != nil {
					return err
				}
				removed = append(removed, key)
			case expire:
				r.Expired = true
				if err := put(b, id, r); err != nil {
					return err
				}
				expired = append(expired, key)
			default:
				continue
			}
			touched[r.Instance.Component] = true
		}
		for comp := range touched {
			if err := touch(tx, comp); err != nil {
				return err
			}
		}
		return nil
	})
	s.liveMu.Lock()
	for _, e := range due {
		e.busy = false
	}
	if err != nil {
		// Keep the heartbeats for the next sweep.
		for k := range pending {
			if e := s.live[k]; e != nil {
				e.dirty = true
			}
		}
		s.liveMu.Unlock()
		return err
	}
	// A registration that replaced an entry since the scan wrote a newer record: only
	// the entries the sweep looked at change.
	for _, k := range expired {
		if e := s.live[k]; e != nil && e == due[k] {
			e.expired = true
		}
	}
	for _, k := range removed {
		if e := s.live[k]; e != nil && e == due[k] {
			delete(s.live, k)
		}
	}
	s.liveMu.Unlock()
	if len(touched) > 0 {
		s.hub.Notify()
	}
	return nil
}

// PutComponent implements [store.Store].
func (s *Store) PutComponent(ctx context.Context, c catalog.Component) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	if err := s.check(ctx); err != nil {
		return false, err
	}
	v, err := json.Marshal(c)
	if err != nil {
		return false, err
	}
	created := false
	defer s.componentWritten(c.Name)
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bComponents))
		created = b.Get([]byte(c.Name)) == nil
		if _, err := bump(tx); err != nil {
			return err
		}
		return b.Put([]byte(c.Name), v)
	})
	return created, s.wrap(err)
}

func (s *Store) wrap(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

// GetComponent implements [store.Store]. Components read once are kept decoded in
// memory until they change.
func (s *Store) GetComponent(ctx context.Context, name string) (catalog.Component, error) {
	if err := s.check(ctx); err != nil {
		return catalog.Component{}, err
	}
	s.compMu.Lock()
	c, ok := s.comps[name]
	gen := s.compGen
	s.compMu.Unlock()
	if ok {
		return cloneComponent(c), nil
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bComponents)).Get([]byte(name))
		if v == nil {
			return core.NotFound("component", name)
		}
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return catalog.Component{}, s.wrap(err)
	}
	s.compMu.Lock()
	if s.compGen == gen { // no write since the read began: c is current
		s.comps[name] = cloneComponent(c)
	}
	s.compMu.Unlock()
	return c, nil
}

// componentWritten drops name from the component cache after a write.
func (s *Store) componentWritten(name string) {
	s.compMu.Lock()
	s.compGen++
	delete(s.comps, name)
	s.compMu.Unlock()
}

func cloneComponent(c catalog.Component) catalog.Component { return c.Clone() }

// ListComponents implements [store.Store].
func (s *Store) ListComponents(ctx context.Context, f catalog.ComponentFilter) ([]catalog.Component, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := []catalog.Component{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bComponents)).ForEach(func(_, v []byte) error {
			var c catalog.Component
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			if f.Match(&c) {
				out = append(out, c)
			}
			return nil
		})
	})
	return out, s.wrap(err)
}

// DeleteComponent implements [store.Store].
func (s *Store) DeleteComponent(ctx context.Context, name string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	defer s.componentWritten(name)
	err := s.db.Update(func(tx *bolt.Tx) error {
		k := []byte(name)
		if tx.Bucket([]byte(bComponents)).Get(k) == nil {
			return core.NotFound("component", name)
		}
		if err := tx.Bucket([]byte(bComponents)).Delete(k); err != nil {
			return err
		}
		for _, b := range []string{bInstances, bScorecards} {
			if tx.Bucket([]byte(b)).Bucket(k) != nil {
				if err := tx.Bucket([]byte(b)).DeleteBucket(k); err != nil {
					return err
				}
			}
		}
		if err := touch(tx, name); err != nil {
			return err
		}
		if err := deleteHistories(tx, name); err != nil {
			return err
		}
		prefix := []byte(name + "/")
		c := tx.Bucket([]byte(bHeartbeats)).Cursor()
		for hk, _ := c.Seek(prefix); hk != nil && bytes.HasPrefix(hk, prefix); hk, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte(bSetIndex)).Delete(k)
	})
	if err == nil {
		s.liveMu.Lock()
		for key := range s.live {
			if strings.HasPrefix(key, name+"/") {
				delete(s.live, key)
			}
		}
		s.liveMu.Unlock()
		s.hub.Notify()
	}
	return s.wrap(err)
}

// PutInstance implements [store.Store]. Concurrent calls share one transaction and one
// fsync; each returns after the commit.
func (s *Store) PutInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	return s.putInstance(ctx, in, false)
}

// HeartbeatInstance implements [store.Store]. A heartbeat that changes nothing but the
// time is kept in memory and written by the next sweep (or Close); one that changes
// the instance goes through a transaction like PutInstance.
//
// A heartbeat that arrives in the same instant as the sweep removes the expired
// instance may still succeed; the instance is gone all the same, and the next heartbeat
// fails, so the agent registers again one heartbeat interval later.
func (s *Store) HeartbeatInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	return s.putInstance(ctx, in, true)
}

// GetInstance implements [store.Store].
func (s *Store) GetInstance(ctx context.Context, component, id string) (catalog.Instance, error) {
	if err := s.check(ctx); err != nil {
		return catalog.Instance{}, err
	}
	var r core.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		var v []byte
		if b := tx.Bucket([]byte(bInstances)).Bucket([]byte(component)); b != nil {
			v = b.Get([]byte(id))
		}
		if v == nil {
			return core.NotFound("instance", component+"/"+id)
		}
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return catalog.Instance{}, s.wrap(err)
	}
	s.liveMu.RLock()
	if e := s.live[liveKey(component, id)]; e != nil && e.hb.After(r.Instance.LastHeartbeat) {
		r.Instance.LastHeartbeat = e.hb
	}
	s.liveMu.RUnlock()
	return r.ViewAt(core.Now()), nil
}

// putInstance registers or heartbeats in; mustExist makes it a heartbeat only.
func (s *Store) putInstance(ctx context.Context, in catalog.Instance, mustExist bool) (catalog.Instance, error) {
	if err := in.Validate(); err != nil {
		return catalog.Instance{}, err
	}
	if err := s.check(ctx); err != nil {
		return catalog.Instance{}, err
	}
	in.Expired = false
	in.LastHeartbeat = core.Now()
	r := core.Record{Instance: in}
	if s.heartbeat(in) {
		return r.View(), nil
	}
	v, err := json.Marshal(r)
	if err != nil {
		return catalog.Instance{}, err
	}
	changed := false
	// Batch may run the function more than once: it sets every output afresh.
	err = s.db.Batch(func(tx *bolt.Tx) error {
		changed = false
		comp := []byte(in.Component)
		if tx.Bucket([]byte(bComponents)).Get(comp) == nil {
			return core.NotFound("component", in.Component)
		}
		b, err := tx.Bucket([]byte(bInstances)).CreateBucketIfNotExists(comp)
		if err != nil {
			return err
		}
		var old *core.Record
		if ov := b.Get([]byte(in.ID)); ov != nil {
			old = new(core.Record)
			if err := json.Unmarshal(ov, old); err != nil {
				old = nil
			}
		} else if mustExist {
			return core.NotFound("instance", in.Component+"/"+in.ID)
		}
		if err := b.Put([]byte(in.ID), v); err != nil {
			return err
		}
		if core.SetChanged(old, in) {
			changed = true
			return touch(tx, in.Component)
		}
		return nil
	})
	if err != nil {
		return catalog.Instance{}, s.wrap(err)
	}
	s.liveMu.Lock()
	s.live[liveKey(in.Component, in.ID)] = newLiveEntry(in, false)
	s.liveMu.Unlock()
	if changed {
		s.hub.Notify()
	}
	return r.View(), nil
}

// heartbeat records in memory a heartbeat that changes nothing but the time, for the
// next sweep to write, and reports whether it did. It compares with the instance's
// entry, which holds what its record holds: no read of the file. Anything else (a new
// instance, a change, an expired instance or one the sweep is expiring) goes through a
// transaction.
func (s *Store) heartbeat(in catalog.Instance) bool {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	e := s.live[liveKey(in.Component, in.ID)]
	if e == nil || e.expired || e.busy || core.SetChanged(&core.Record{Instance: e.inst}, in) {
		return false
	}
	if in.LastHeartbeat.After(e.hb) {
		e.hb = in.LastHeartbeat
		e.dirty = true
	}
	return true
}

// DeleteInstance implements [store.Store].
func (s *Store) DeleteInstance(ctx context.Context, component, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bInstances)).Bucket([]byte(component))
		if b == nil || b.Get([]byte(id)) == nil {
			return core.NotFound("instance", component+"/"+id)
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		if sb := tx.Bucket([]byte(bScorecards)).Bucket([]byte(component)); sb != nil {
			if err := sb.Delete([]byte(id)); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte(bHeartbeats)).Delete([]byte(liveKey(component, id))); err != nil {
			return err
		}
		return touch(tx, component)
	})
	if err == nil {
		s.liveMu.Lock()
		delete(s.live, liveKey(component, id))
		s.liveMu.Unlock()
		s.hub.Notify()
	}
	return s.wrap(err)
}

// list reads the instance set of component ("" for all) and its set index in tx.
func (s *Store) list(tx *bolt.Tx, component string) (store.InstanceSet, uint64, error) {
	set := store.InstanceSet{Index: u64(tx.Bucket([]byte(bMeta)).Get([]byte(kRev))), Instances: []catalog.Instance{}}
	now := core.Now()
	read := func(comp []byte) error {
		b := tx.Bucket([]byte(bInstances)).Bucket(comp)
		if b == nil {
			return nil
		}
		s.liveMu.RLock()
		defer s.liveMu.RUnlock()
		return b.ForEach(func(_, v []byte) error {
			var r core.Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if e := s.live[liveKey(r.Instance.Component, r.Instance.ID)]; e != nil && e.hb.After(r.Instance.LastHeartbeat) {
				r.Instance.LastHeartbeat = e.hb
			}
			set.Instances = append(set.Instances, r.ViewAt(now))
			return nil
		})
	}
	if component == "" {
		err := tx.Bucket([]byte(bInstances)).ForEachBucket(read)
		return set, u64(tx.Bucket([]byte(bMeta)).Get([]byte(kInstRev))), err
	}
	if tx.Bucket([]byte(bComponents)).Get([]byte(component)) == nil {
		return store.InstanceSet{}, 0, core.NotFound("component", component)
	}
	err := read([]byte(component))
	return set, u64(tx.Bucket([]byte(bSetIndex)).Get([]byte(component))), err
}

// Instances implements [store.Store].
func (s *Store) Instances(ctx context.Context, component string) (store.InstanceSet, error) {
	if err := s.check(ctx); err != nil {
		return store.InstanceSet{}, err
	}
	var set store.InstanceSet
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		set, _, err = s.list(tx, component)
		return err
	})
	return set, s.wrap(err)
}

// Watch implements [store.Store].
func (s *Store) Watch(ctx context.Context, component string, afterIndex uint64) (store.InstanceSet, error) {
	for {
		changed := s.hub.Changed()
		if err := s.check(ctx); err != nil {
			return store.InstanceSet{}, err
		}
		var set store.InstanceSet
		var idx uint64
		err := s.db.View(func(tx *bolt.Tx) error {
			var err error
			set, idx, err = s.list(tx, component)
			return err
		})
		if err != nil {
			return store.InstanceSet{}, s.wrap(err)
		}
		if afterIndex == 0 || idx > afterIndex || afterIndex > set.Index {
			return set, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return store.InstanceSet{}, ctx.Err()
		case <-s.stop:
			return store.InstanceSet{}, store.ErrClosed
		}
	}
}

// PutScorecard implements [store.Store].
func (s *Store) PutScorecard(ctx context.Context, sc catalog.Scorecard) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	sc.ReportedAt = core.Now()
	v, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		comp := []byte(sc.Component)
		b := tx.Bucket([]byte(bInstances)).Bucket(comp)
		if b == nil || b.Get([]byte(sc.Instance)) == nil {
			return core.NotFound("instance", sc.Component+"/"+sc.Instance)
		}
		sb, err := tx.Bucket([]byte(bScorecards)).CreateBucketIfNotExists(comp)
		if err != nil {
			return err
		}
		if _, err := bump(tx); err != nil {
			return err
		}
		return sb.Put([]byte(sc.Instance), v)
	})
	return s.wrap(err)
}

// Scorecard implements [store.Store].
func (s *Store) Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error) {
	if err := s.check(ctx); err != nil {
		return catalog.ComponentScorecard{}, err
	}
	out := catalog.ComponentScorecard{Component: component, Instances: []catalog.Scorecard{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bComponents)).Get([]byte(component)) == nil {
			return core.NotFound("component", component)
		}
		sb := tx.Bucket([]byte(bScorecards)).Bucket([]byte(component))
		if sb == nil {
			return nil
		}
		return sb.ForEach(func(_, v []byte) error {
			var sc catalog.Scorecard
			if err := json.Unmarshal(v, &sc); err != nil {
				return err
			}
			out.Instances = append(out.Instances, sc)
			return nil
		})
	})
	if err != nil {
		return catalog.ComponentScorecard{}, s.wrap(err)
	}
	out.Score = catalog.ComponentScore(out.Instances)
	return out, nil
}

// Close stops the sweep and closes the file; later calls return store.ErrClosed. It is
// safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	err := s.sweep(core.Now()) // write the pending heartbeats
	return errors.Join(err, s.db.Close())
}
