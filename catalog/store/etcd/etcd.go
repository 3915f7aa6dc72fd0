package etcd

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/catalog/store/internal/core"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "/paved/catalog/"

// maxAttempts bounds the compare-and-swap retries of one call under contention.
const maxAttempts = 16

// Options are a Store's settings. The zero value is ready to use.
type Options struct {
	// Prefix is prepended to every key; it must end with "/". Empty means
	// DefaultPrefix. Catalog processes sharing a catalog use the same prefix.
	Prefix string
	// Grace is how long an expired instance stays listed as critical before it is
	// removed, rounded up to whole seconds. Zero means the instance's TTL.
	Grace time.Duration
}

// FlushInterval is how often a Store writes the heartbeat times it took: a heartbeat
// that changes nothing but the time renews the instance's leases at once (that is what
// keeps it alive) and writes its time in a batch at most this much later.
const FlushInterval = time.Second

// flushBatch is how many heartbeat times one flush transaction writes (etcd's default
// --max-txn-ops is 128).
const flushBatch = 64

// Store is a [store.Store] in etcd.
type Store struct {
	cli    *clientv3.Client
	prefix string
	grace  time.Duration
	stop   chan struct{}
	done   chan struct{} // closed when the flush loop has ended

	mu     sync.Mutex
	closed bool // guarded by mu

	renewer   *renewer
	stopWatch context.CancelFunc
	watchDone chan struct{} // closed when the cache's watch has ended

	cacheMu sync.Mutex
	// cache holds what registrations and heartbeats through this store learned of each
	// instance, so that a plain heartbeat renews its leases without reading etcd; the
	// watch keeps it coherent with writes from other catalog processes. Guarded by cacheMu.
	cache map[instKey]*known

	hbMu sync.Mutex
	// pending holds the heartbeat times this store took and has not written yet, by
	// "component/id": reads through this store see them at once, other stores after the
	// next flush. Guarded by hbMu.
	pending map[string]pendingBeat
}

// pendingBeat is a heartbeat time to write, with the lease of the instance's record.
type pendingBeat struct {
	at    time.Time
	lease clientv3.LeaseID
}

var _ store.Store = (*Store)(nil)

// New returns a Store over cli. It fails when opts.Prefix does not end with "/".
func New(cli *clientv3.Client, opts Options) (*Store, error) {
	if cli == nil {
		return nil, errors.New("store/etcd: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(opts.Prefix, "/") {
		return nil, fmt.Errorf("store/etcd: prefix %q must end with \"/\"", opts.Prefix)
	}
	s := &Store{cli: cli, prefix: opts.Prefix, grace: opts.Grace, stop: make(chan struct{}), done: make(chan struct{}),
		pending: make(map[string]pendingBeat), renewer: newRenewer(cli), cache: make(map[instKey]*known),
		watchDone: make(chan struct{})}
	wctx, stopWatch := context.WithCancel(context.Background())
	s.stopWatch = stopWatch
	go s.watchLoop(wctx)
	s.extendAfterRestart(restartTimeout)
	go s.flushLoop()
	return s, nil
}

// restartTimeout bounds the lease renewals New makes (see extendAfterRestart).
const restartTimeout = 5 * time.Second

// extendAfterRestart gives every instance one full TTL from now to heartbeat again
// before it is removed: a catalog that starts may follow an outage of every catalog
// process, during which no heartbeat could renew a lease. It renews the record lease
// (TTL + grace) of each instance whose alive key is gone, or whose grace is shorter than
// its TTL, so that what is left of it may be under one TTL. The alive keys are left
// alone: an expired instance stays critical until it heartbeats. It is best effort,
// bounded by timeout: a lease it misses expires as it would have.
func (s *Store) extendAfterRestart(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.prefix+"i/", clientv3.WithPrefix())
	if err != nil {
		return
	}
	type inst struct {
		lease clientv3.LeaseID
		short bool // grace shorter than the TTL
		alive bool
	}
	byKey := map[string]*inst{}
	for _, kv := range resp.Kvs {
		comp, id, kind, ok := s.parseInstKey(kv.Key)
		if !ok || (kind != "rec" && kind != "alive") {
			continue
		}
		e := byKey[comp+"/"+id]
		if e == nil {
			e = &inst{}
			byKey[comp+"/"+id] = e
		}
		if kind == "alive" {
			e.alive = true
			continue
		}
		e.lease = clientv3.LeaseID(kv.Lease)
		var r core.Record
		if json.Unmarshal(kv.Value, &r) == nil {
			e.short = core.Grace(s.grace, &r.Instance) < r.Instance.TTL()
		}
	}
	var leases []clientv3.LeaseID
	for _, e := range byKey {
		if e.lease != 0 && (!e.alive || e.short) {
			leases = append(leases, e.lease)
		}
	}
	for len(leases) > 0 && ctx.Err() == nil {
		n := min(len(leases), 512)
		_, _ = s.renewer.renew(ctx, leases[:n]...)
		leases = leases[n:]
	}
}

func (s *Store) compKey(name string) string    { return s.prefix + "c/" + name }
func (s *Store) instPrefix(comp string) string { return s.prefix + "i/" + comp + "/" }
func (s *Store) instKey(comp, id, kind string) string {
	return s.prefix + "i/" + comp + "/" + id + "/" + kind
}

// parseInstKey splits <prefix>i/<comp>/<id>/<kind>.
func (s *Store) parseInstKey(k []byte) (comp, id, kind string, ok bool) {
	rest, ok := strings.CutPrefix(string(k), s.prefix+"i/")
	if !ok {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
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

func seconds(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Seconds())))
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
	k := s.compKey(c.Name)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(v))).
		Else(clientv3.OpPut(k, string(v))).
		Commit()
	if err != nil {
		return false, fmt.Errorf("store/etcd: put component: %w", err)
	}
	return resp.Succeeded, nil
}

// GetComponent implements [store.Store].
func (s *Store) GetComponent(ctx context.Context, name string) (catalog.Component, error) {
	if err := s.check(ctx); err != nil {
		return catalog.Component{}, err
	}
	resp, err := s.cli.Get(ctx, s.compKey(name))
	if err != nil {
		return catalog.Component{}, fmt.Errorf("store/etcd: get component: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return catalog.Component{}, core.NotFound("component", name)
	}
	var c catalog.Component
	return c, json.Unmarshal(resp.Kvs[0].Value, &c)
}

// ListComponents implements [store.Store].
func (s *Store) ListComponents(ctx context.Context, f catalog.ComponentFilter) ([]catalog.Component, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	resp, err := s.cli.Get(ctx, s.prefix+"c/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("store/etcd: list components: %w", err)
	}
	out := []catalog.Component{}
	for _, kv := range resp.Kvs {
		var c catalog.Component
		if err := json.Unmarshal(kv.Value, &c); err != nil {
			return nil, fmt.Errorf("store/etcd: decode %s: %w", kv.Key, err)
		}
		if f.Match(&c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b catalog.Component) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteComponent implements [store.Store].
func (s *Store) DeleteComponent(ctx context.Context, name string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	k := s.compKey(name)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), ">", 0)).
		Then(clientv3.OpDelete(k), clientv3.OpDelete(s.instPrefix(name), clientv3.WithPrefix()), clientv3.OpDelete(s.histPrefix(name), clientv3.WithPrefix())).
		Commit()
	if err != nil {
		return fmt.Errorf("store/etcd: delete component: %w", err)
	}
	if !resp.Succeeded {
		return core.NotFound("component", name)
	}
	s.forgetComponent(name)
	return nil
}

// grant returns a new lease of ttl seconds.
func (s *Store) grant(ctx context.Context, ttl int64) (clientv3.LeaseID, error) {
	resp, err := s.cli.Grant(ctx, ttl)
	if err != nil {
		return 0, fmt.Errorf("store/etcd: grant lease: %w", err)
	}
	return resp.ID, nil
}

// PutInstance implements [store.Store].
func (s *Store) PutInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	return s.putInstance(ctx, in, false)
}

// HeartbeatInstance implements [store.Store]. A heartbeat that changes nothing but the
// time renews the instance's leases and leaves its time for the next flush (see
// [FlushInterval]); a lease already gone sends it down the registration path. Any other
// heartbeat is a transaction conditional on the record's revision as read, so an
// instance deleted in between is not re-created.
func (s *Store) HeartbeatInstance(ctx context.Context, in catalog.Instance) (catalog.Instance, error) {
	return s.putInstance(ctx, in, true)
}

// GetInstance implements [store.Store].
func (s *Store) GetInstance(ctx context.Context, component, id string) (catalog.Instance, error) {
	if err := s.check(ctx); err != nil {
		return catalog.Instance{}, err
	}
	resp, err := s.cli.Get(ctx, s.instPrefix(component)+id+"/", clientv3.WithPrefix())
	if err != nil {
		return catalog.Instance{}, fmt.Errorf("store/etcd: get instance: %w", err)
	}
	set, err := s.build(uint64(resp.Header.Revision), resp.Kvs)
	if err != nil {
		return catalog.Instance{}, err
	}
	for _, in := range set.Instances {
		if in.Component == component && in.ID == id {
			return in, nil
		}
	}
	return catalog.Instance{}, core.NotFound("instance", component+"/"+id)
}

// putInstance registers or heartbeats in; mustExist makes it a heartbeat only.
//
// A plain heartbeat (nothing but the time changes) of an instance this store registered
// or heartbeated before, and whose record no catalog process changed since, renews the
// two leases in one exchange on the shared keep-alive stream and reads nothing. Anything
// else, or a lease found gone, takes the full path: a read transaction, then a write
// transaction conditional on what it read. Either way what the call learned is cached for
// the next heartbeat.
func (s *Store) putInstance(ctx context.Context, in catalog.Instance, mustExist bool) (catalog.Instance, error) {
	if err := in.Validate(); err != nil {
		return catalog.Instance{}, err
	}
	if err := s.check(ctx); err != nil {
		return catalog.Instance{}, err
	}
	in.Expired = false
	k := instKey{in.Component, in.ID}
	if e := s.cached(k); e != nil && !core.SetChanged(&e.rec, in) {
		alive, err := s.renewer.renew(ctx, e.l1, e.l2)
		if err != nil {
			return catalog.Instance{}, err
		}
		if alive[0] && alive[1] {
			return s.beat(in, e.l1), nil
		}
		s.forget(k, e) // a lease is gone: the instance expired, or was deleted or moved
	}
	p := s.reserve(k)
	var learned *known
	defer func() { s.learn(k, p, learned) }()
	ck, rk, ak := s.compKey(in.Component), s.instKey(in.Component, in.ID, "rec"), s.instKey(in.Component, in.ID, "alive")
	sk := s.instKey(in.Component, in.ID, "score")
	for range maxAttempts {
		resp, err := s.cli.Txn(ctx).Then(clientv3.OpGet(ck), clientv3.OpGet(rk), clientv3.OpGet(ak), clientv3.OpGet(sk)).Commit()
		if err != nil {
			return catalog.Instance{}, fmt.Errorf("store/etcd: put instance: %w", err)
		}
		compKVs := resp.Responses[0].GetResponseRange().Kvs
		recKVs := resp.Responses[1].GetResponseRange().Kvs
		aliveKVs := resp.Responses[2].GetResponseRange().Kvs
		scoreKVs := resp.Responses[3].GetResponseRange().Kvs
		if len(compKVs) == 0 {
			return catalog.Instance{}, core.NotFound("component", in.Component)
		}
		if mustExist && len(recKVs) == 0 {
			return catalog.Instance{}, core.NotFound("instance", in.Component+"/"+in.ID)
		}
		var old *core.Record
		var l1, l2 clientv3.LeaseID
		recCmp := clientv3.Compare(clientv3.CreateRevision(rk), "=", 0)
		if len(recKVs) > 0 {
			recCmp = clientv3.Compare(clientv3.ModRevision(rk), "=", recKVs[0].ModRevision)
			old = new(core.Record)
			if json.Unmarshal(recKVs[0].Value, old) != nil {
				old = nil
			}
			if old != nil && old.Instance.TTLSeconds == in.TTLSeconds {
				l1 = clientv3.LeaseID(recKVs[0].Lease)
				if len(aliveKVs) > 0 {
					l2 = clientv3.LeaseID(aliveKVs[0].Lease)
				}
			}
		}
		if l1 != 0 {
			alive, err := s.renewer.renew(ctx, l1, l2)
			if err != nil {
				return catalog.Instance{}, err
			}
			if !alive[0] {
				l1, l2 = 0, 0
			} else if !alive[1] {
				l2 = 0
			}
		}
		if l1 != 0 && l2 != 0 && !core.SetChanged(old, in) {
			// Nothing but the time changed and both leases are renewed: the instance
			// lives on; its time is written with others by the next flush.
			learned = &known{rev: resp.Header.Revision, rec: *old, l1: l1, l2: l2}
			return s.beat(in, l1), nil
		}
		var granted []clientv3.LeaseID
		if l1 == 0 {
			if l1, err = s.grant(ctx, int64(in.TTLSeconds)+seconds(core.Grace(s.grace, &in))); err != nil {
				return catalog.Instance{}, err
			}
			granted = append(granted, l1)
		}
		newAlive := l2 == 0
		if newAlive {
			if l2, err = s.grant(ctx, int64(in.TTLSeconds)); err != nil {
				s.revoke(granted...)
				return catalog.Instance{}, err
			}
			granted = append(granted, l2)
		}
		in.LastHeartbeat = core.Now()
		r := core.Record{Instance: in}
		v, err := json.Marshal(r)
		if err != nil {
			s.revoke(granted...)
			return catalog.Instance{}, err
		}
		ops := []clientv3.Op{clientv3.OpPut(rk, string(v), clientv3.WithLease(l1))}
		if newAlive {
			ops = append(ops, clientv3.OpPut(ak, "", clientv3.WithLease(l2)))
		}
		cmps := []clientv3.Cmp{recCmp, clientv3.Compare(clientv3.CreateRevision(ck), "=", compKVs[0].CreateRevision)}
		var stale []clientv3.LeaseID // leases the instance moves off
		if len(recKVs) > 0 && clientv3.LeaseID(recKVs[0].Lease) != l1 {
			stale = append(stale, clientv3.LeaseID(recKVs[0].Lease))
			if len(scoreKVs) > 0 { // the scorecard moves with the record
				ops = append(ops, clientv3.OpPut(sk, string(scoreKVs[0].Value), clientv3.WithLease(l1)))
				cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(sk), "=", scoreKVs[0].ModRevision))
			}
		}
		if len(aliveKVs) > 0 && clientv3.LeaseID(aliveKVs[0].Lease) != l2 {
			stale = append(stale, clientv3.LeaseID(aliveKVs[0].Lease))
		}
		txn, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
		if err != nil {
			s.revoke(granted...)
			return catalog.Instance{}, fmt.Errorf("store/etcd: put instance: %w", err)
		}
		if txn.Succeeded {
			kept := r
			kept.Instance.Metadata = maps.Clone(in.Metadata) // the caller's map is the caller's
			learned = &known{rev: txn.Header.Revision, rec: kept, l1: l1, l2: l2}
			s.revoke(stale...)
			return r.View(), nil
		}
		s.revoke(granted...) // lost a race with another writer: read again
	}
	return catalog.Instance{}, fmt.Errorf("store/etcd: put instance %s/%s: too much contention", in.Component, in.ID)
}

// beat answers a plain heartbeat of in, whose leases are renewed: its time is now, and
// waits for the next flush to be written to the hb key on lease.
func (s *Store) beat(in catalog.Instance, lease clientv3.LeaseID) catalog.Instance {
	in.LastHeartbeat = core.Now()
	s.hbMu.Lock()
	s.pending[in.Component+"/"+in.ID] = pendingBeat{at: in.LastHeartbeat, lease: lease}
	s.hbMu.Unlock()
	r := core.Record{Instance: in}
	return r.View()
}

// revoke drops leases best-effort; what it misses expires on its own.
func (s *Store) revoke(ids ...clientv3.LeaseID) {
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = s.cli.Revoke(ctx, id)
		cancel()
	}
}

// DeleteInstance implements [store.Store].
func (s *Store) DeleteInstance(ctx context.Context, component, id string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	rk := s.instKey(component, id, "rec")
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(rk), ">", 0)).
		Then(clientv3.OpDelete(s.instPrefix(component)+id+"/", clientv3.WithPrefix(), clientv3.WithPrevKV())).
		Commit()
	if err != nil {
		return fmt.Errorf("store/etcd: delete instance: %w", err)
	}
	if !resp.Succeeded {
		return core.NotFound("instance", component+"/"+id)
	}
	s.forget(instKey{component, id}, nil)
	var leases []clientv3.LeaseID
	for _, kv := range resp.Responses[0].GetResponseDeleteRange().PrevKvs {
		if l := clientv3.LeaseID(kv.Lease); l != 0 && !slices.Contains(leases, l) {
			leases = append(leases, l)
		}
	}
	s.revoke(leases...)
	return nil
}

// Instances implements [store.Store].
func (s *Store) Instances(ctx context.Context, component string) (store.InstanceSet, error) {
	if err := s.check(ctx); err != nil {
		return store.InstanceSet{}, err
	}
	if component == "" {
		resp, err := s.cli.Get(ctx, s.prefix+"i/", clientv3.WithPrefix())
		if err != nil {
			return store.InstanceSet{}, fmt.Errorf("store/etcd: list instances: %w", err)
		}
		return s.build(uint64(resp.Header.Revision), resp.Kvs)
	}
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.compKey(component)),
		clientv3.OpGet(s.instPrefix(component), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return store.InstanceSet{}, fmt.Errorf("store/etcd: list instances: %w", err)
	}
	if len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
		return store.InstanceSet{}, core.NotFound("component", component)
	}
	return s.build(uint64(resp.Header.Revision), resp.Responses[1].GetResponseRange().Kvs)
}

// build assembles an instance set from instance keys.
func (s *Store) build(rev uint64, kvs []*mvccpb.KeyValue) (store.InstanceSet, error) {
	type entry struct {
		rec   *core.Record
		alive bool
		beat  time.Time // from the hb key
	}
	byKey := map[[2]string]*entry{}
	for _, kv := range kvs {
		comp, id, kind, ok := s.parseInstKey(kv.Key)
		if !ok {
			continue
		}
		e := byKey[[2]string{comp, id}]
		if e == nil {
			e = &entry{}
			byKey[[2]string{comp, id}] = e
		}
		switch kind {
		case "rec":
			e.rec = new(core.Record)
			if err := json.Unmarshal(kv.Value, e.rec); err != nil {
				return store.InstanceSet{}, fmt.Errorf("store/etcd: decode %s: %w", kv.Key, err)
			}
		case "alive":
			e.alive = true
		case "hb":
			if t, err := time.Parse(time.RFC3339Nano, string(kv.Value)); err == nil {
				e.beat = t
			}
		}
	}
	s.hbMu.Lock()
	for k, e := range byKey {
		if e.rec == nil {
			continue
		}
		if p, ok := s.pending[k[0]+"/"+k[1]]; ok && p.at.After(e.beat) {
			e.beat = p.at
		}
		if e.beat.After(e.rec.Instance.LastHeartbeat) {
			e.rec.Instance.LastHeartbeat = e.beat
		}
	}
	s.hbMu.Unlock()
	set := store.InstanceSet{Index: rev, Instances: []catalog.Instance{}}
	for _, e := range byKey {
		if e.rec == nil {
			continue
		}
		e.rec.Expired = !e.alive
		set.Instances = append(set.Instances, e.rec.View())
	}
	slices.SortFunc(set.Instances, func(a, b catalog.Instance) int {
		return cmp.Or(cmp.Compare(a.Component, b.Component), cmp.Compare(a.ID, b.ID))
	})
	return set, nil
}

// relevant reports whether a watch event changes the instance set as watchers see it.
func (s *Store) relevant(ev *clientv3.Event) bool {
	_, _, kind, ok := s.parseInstKey(ev.Kv.Key)
	if !ok {
		return false
	}
	isDelete := ev.Type == clientv3.EventTypeDelete
	isCreate := !isDelete && ev.Kv.CreateRevision == ev.Kv.ModRevision
	switch kind {
	case "alive":
		return isDelete || isCreate
	case "rec":
		if isDelete || isCreate || ev.PrevKv == nil {
			return true
		}
		var prev, cur core.Record
		if json.Unmarshal(ev.PrevKv.Value, &prev) != nil || json.Unmarshal(ev.Kv.Value, &cur) != nil {
			return true
		}
		return core.SetChanged(&prev, cur.Instance)
	}
	return false
}

// Watch implements [store.Store].
func (s *Store) Watch(ctx context.Context, component string, afterIndex uint64) (store.InstanceSet, error) {
	if afterIndex == 0 {
		return s.Instances(ctx, component)
	}
	if err := s.check(ctx); err != nil {
		return store.InstanceSet{}, err
	}
	// The current set tells whether the component exists and whether afterIndex is from
	// the future (another store, or a reset one): then the caller gets the set at once.
	cur, err := s.Instances(ctx, component)
	if err != nil {
		return store.InstanceSet{}, err
	}
	if afterIndex > cur.Index {
		return cur, nil
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	from := int64(afterIndex) + 1
	prefix := s.prefix + "i/"
	var compCh clientv3.WatchChan
	if component != "" {
		prefix = s.instPrefix(component)
		compCh = s.cli.Watch(wctx, s.compKey(component), clientv3.WithRev(from), clientv3.WithFilterPut())
	}
	instCh := s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithPrevKV())
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case <-ctx.Done():
			return store.InstanceSet{}, ctx.Err()
		case <-s.stop:
			return store.InstanceSet{}, store.ErrClosed
		case resp, ok = <-instCh:
		case resp, ok = <-compCh:
		}
		if !ok {
			if err := ctx.Err(); err != nil {
				return store.InstanceSet{}, err
			}
			return store.InstanceSet{}, errors.New("store/etcd: watch ended")
		}
		if resp.CompactRevision != 0 {
			// The history since afterIndex is gone: the caller gets the current set.
			return s.Instances(ctx, component)
		}
		if err := resp.Err(); err != nil {
			return store.InstanceSet{}, fmt.Errorf("store/etcd: watch: %w", err)
		}
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypeDelete && string(ev.Kv.Key) == s.compKey(component) {
				return store.InstanceSet{}, core.NotFound("component", component)
			}
			if s.relevant(ev) {
				return s.Instances(ctx, component)
			}
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
	rk := s.instKey(sc.Component, sc.Instance, "rec")
	for range maxAttempts {
		resp, err := s.cli.Get(ctx, rk)
		if err != nil {
			return fmt.Errorf("store/etcd: put scorecard: %w", err)
		}
		if len(resp.Kvs) == 0 {
			return core.NotFound("instance", sc.Component+"/"+sc.Instance)
		}
		rec := resp.Kvs[0]
		txn, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(rk), "=", rec.CreateRevision),
				clientv3.Compare(clientv3.LeaseValue(rk), "=", rec.Lease)).
			Then(clientv3.OpPut(s.instKey(sc.Component, sc.Instance, "score"), string(v), clientv3.WithLease(clientv3.LeaseID(rec.Lease)))).
			Commit()
		if err != nil {
			return fmt.Errorf("store/etcd: put scorecard: %w", err)
		}
		if txn.Succeeded {
			return nil
		}
	}
	return fmt.Errorf("store/etcd: put scorecard %s/%s: too much contention", sc.Component, sc.Instance)
}

// Scorecard implements [store.Store].
func (s *Store) Scorecard(ctx context.Context, component string) (catalog.ComponentScorecard, error) {
	if err := s.check(ctx); err != nil {
		return catalog.ComponentScorecard{}, err
	}
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.compKey(component)),
		clientv3.OpGet(s.instPrefix(component), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return catalog.ComponentScorecard{}, fmt.Errorf("store/etcd: scorecard: %w", err)
	}
	if len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
		return catalog.ComponentScorecard{}, core.NotFound("component", component)
	}
	out := catalog.ComponentScorecard{Component: component, Instances: []catalog.Scorecard{}}
	for _, kv := range resp.Responses[1].GetResponseRange().Kvs {
		if _, _, kind, ok := s.parseInstKey(kv.Key); !ok || kind != "score" {
			continue
		}
		var sc catalog.Scorecard
		if err := json.Unmarshal(kv.Value, &sc); err != nil {
			return catalog.ComponentScorecard{}, fmt.Errorf("store/etcd: decode %s: %w", kv.Key, err)
		}
		out.Instances = append(out.Instances, sc)
	}
	slices.SortFunc(out.Instances, func(a, b catalog.Scorecard) int { return cmp.Compare(a.Instance, b.Instance) })
	out.Score = catalog.ComponentScore(out.Instances)
	return out, nil
}

// Close marks the store closed: later calls return store.ErrClosed and blocked watches
// return it. It writes the heartbeat times it holds (waiting at most 2 s for etcd), so
// close the etcd client after the store. It is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	<-s.done
	s.stopWatch()
	<-s.watchDone
	s.renewer.close()
	return nil
}

// flushLoop writes the pending heartbeat times every FlushInterval, and once more when
// the store closes.
func (s *Store) flushLoop() {
	defer close(s.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.flush(5 * time.Second)
		case <-s.stop:
			s.flush(2 * time.Second)
			return
		}
	}
}

// flush writes the pending heartbeat times, flushBatch to a transaction, each on its
// record's lease so that it goes with the record, and each only while the record is on
// that lease (a nested transaction per key): a time never outlives or brings back a
// record deleted since, nor lands on a lease that is gone. What cannot be written in
// time stays pending for the next flush.
func (s *Store) flush(timeout time.Duration) {
	s.hbMu.Lock()
	if len(s.pending) == 0 {
		s.hbMu.Unlock()
		return
	}
	keys := make([]string, 0, len(s.pending))
	beats := make([]pendingBeat, 0, len(s.pending))
	for k, p := range s.pending {
		keys = append(keys, k)
		beats = append(beats, p)
	}
	s.hbMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var done []int
	for start := 0; start < len(keys); start += flushBatch {
		end := min(start+flushBatch, len(keys))
		ops := make([]clientv3.Op, 0, end-start)
		for i := start; i < end; i++ {
			comp, id, _ := strings.Cut(keys[i], "/")
			l := beats[i].lease
			ops = append(ops, clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(s.instKey(comp, id, "rec")), "=", l)},
				[]clientv3.Op{clientv3.OpPut(s.instKey(comp, id, "hb"), beats[i].at.Format(time.RFC3339Nano), clientv3.WithLease(l))},
				nil))
		}
		if _, err := s.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			break // etcd is unreachable or slow: the rest waits for the next flush
		}
		for i := start; i < end; i++ {
			done = append(done, i) // written, or its record is gone or moved
		}
	}
	s.hbMu.Lock()
	for _, i := range done {
		if p, ok := s.pending[keys[i]]; ok && p.at.Equal(beats[i].at) {
			delete(s.pending, keys[i])
		}
	}
	s.hbMu.Unlock()
}
