package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/discovery"
)

// Registrar is a [discovery.Registrar] on etcd leases. See the package documentation for
// the key layout and the lease handling. It is safe for concurrent use.
type Registrar struct {
	client *clientv3.Client
	prefix string
	log    *slog.Logger

	// mu guards leases.
	mu     sync.Mutex
	leases map[string]*lease // by key
}

var _ discovery.Registrar = (*Registrar)(nil)

// lease is one registration: its lease, kept alive by a goroutine until stop.
type lease struct {
	id    clientv3.LeaseID
	value string        // last value put, guarded by Registrar.mu
	stop  func()        // ends the keepalive
	lost  chan struct{} // closed when the keepalive ended
}

func (l *lease) isLost() bool {
	select {
	case <-l.lost:
		return true
	default:
		return false
	}
}

// NewRegistrar returns a registrar on client. It fails on an invalid option.
func NewRegistrar(client *clientv3.Client, opts ...RegistrarOption) (*Registrar, error) {
	if client == nil {
		return nil, errors.New("etcd: NewRegistrar: client is nil; create one with NewClient")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Registrar{client: client, prefix: o.prefix, log: o.logger, leases: map[string]*lease{}}, nil
}

func ttlSeconds(inst discovery.Instance) int64 {
	return int64((inst.EffectiveTTL() + time.Second - 1) / time.Second)
}

// Register implements [discovery.Registrar]: it grants a lease of the instance's TTL,
// puts the instance under it and keeps it alive.
func (r *Registrar) Register(ctx context.Context, inst discovery.Instance) error {
	if err := inst.Validate(); err != nil {
		return err
	}
	key := Key(r.prefix, inst.Service, inst.ID)
	value, err := json.Marshal(inst)
	if err != nil {
		return fmt.Errorf("etcd: register %s: %w", key, err)
	}
	grant, err := r.client.Grant(ctx, ttlSeconds(inst))
	if err != nil {
		return fmt.Errorf("etcd: register %s: granting a lease: %w", key, err)
	}
	if _, err := r.client.Put(ctx, key, string(value), clientv3.WithLease(grant.ID)); err != nil {
		r.revoke(ctx, grant.ID)
		return fmt.Errorf("etcd: register %s: %w", key, err)
	}
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ch, err := r.client.KeepAlive(kctx, grant.ID)
	if err != nil {
		cancel()
		r.revoke(ctx, grant.ID)
		return fmt.Errorf("etcd: register %s: keeping the lease alive: %w", key, err)
	}
	l := &lease{id: grant.ID, value: string(value), lost: make(chan struct{})}
	done := make(chan struct{})
	l.stop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		defer close(l.lost)
		for range ch { // drain the responses; the channel closes when the lease is gone
		}
		if kctx.Err() == nil {
			r.log.Warn("etcd lease lost; the next heartbeat re-registers", "key", key, "lease", int64(grant.ID))
		}
	}()

	r.mu.Lock()
	old := r.leases[key]
	r.leases[key] = l
	r.mu.Unlock()
	if old != nil {
		// The key is now attached to the new lease, so revoking the old one leaves it.
		old.stop()
		r.revoke(ctx, old.id)
	}
	return nil
}

func (r *Registrar) revoke(ctx context.Context, id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := r.client.Revoke(ctx, id); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		r.log.Warn("etcd lease revocation failed; it expires after its TTL", "lease", int64(id), "error", err.Error())
	}
}

// Heartbeat implements [discovery.Registrar]: in one transaction it checks that the key
// still exists under this registrar's lease and, when the status changed, puts the new
// value. It returns [discovery.ErrUnknownInstance] when the key or the lease is gone.
func (r *Registrar) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	if !inst.Status.Valid() {
		return fmt.Errorf("etcd: heartbeat %s/%s: status must be one of passing, warning, critical, got %q", inst.Service, inst.ID, inst.Status)
	}
	key := Key(r.prefix, inst.Service, inst.ID)
	r.mu.Lock()
	l := r.leases[key]
	var last string
	if l != nil {
		last = l.value
	}
	r.mu.Unlock()
	if l == nil || l.isLost() {
		r.forget(key, l)
		return fmt.Errorf("etcd: heartbeat %s: %w", key, discovery.ErrUnknownInstance)
	}
	value, err := json.Marshal(inst)
	if err != nil {
		return fmt.Errorf("etcd: heartbeat %s: %w", key, err)
	}
	var then []clientv3.Op
	if string(value) != last {
		then = append(then, clientv3.OpPut(key, string(value), clientv3.WithLease(l.id)))
	}
	resp, err := r.client.Txn(ctx).
		If(clientv3.Compare(clientv3.LeaseValue(key), "=", l.id)).
		Then(then...).
		Commit()
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		r.forget(key, l)
		return fmt.Errorf("etcd: heartbeat %s: lease %x not found: %w", key, int64(l.id), discovery.ErrUnknownInstance)
	case err != nil:
		return fmt.Errorf("etcd: heartbeat %s: %w", key, err)
	case !resp.Succeeded:
		r.forget(key, l)
		r.revoke(ctx, l.id)
		return fmt.Errorf("etcd: heartbeat %s: key not found under lease %x: %w", key, int64(l.id), discovery.ErrUnknownInstance)
	}
	if len(then) > 0 {
		r.mu.Lock()
		l.value = string(value)
		r.mu.Unlock()
	}
	return nil
}

// forget drops l, if it is still the key's lease, and stops its keepalive.
func (r *Registrar) forget(key string, l *lease) {
	if l == nil {
		return
	}
	r.mu.Lock()
	if r.leases[key] == l {
		delete(r.leases, key)
	}
	r.mu.Unlock()
	l.stop()
}

// Deregister implements [discovery.Registrar]: it deletes the key and revokes the
// lease.
func (r *Registrar) Deregister(ctx context.Context, inst discovery.Instance) error {
	key := Key(r.prefix, inst.Service, inst.ID)
	r.mu.Lock()
	l := r.leases[key]
	r.mu.Unlock()
	r.forget(key, l)
	if _, err := r.client.Delete(ctx, key); err != nil {
		return fmt.Errorf("etcd: deregister %s: %w", key, err)
	}
	if l != nil {
		r.revoke(ctx, l.id)
	}
	return nil
}

// Close stops keeping this registrar's leases alive, without deleting their keys: they
// expire after their TTL. Deregister first for a clean stop. Close does not close the
// client.
func (r *Registrar) Close() {
	r.mu.Lock()
	ls := r.leases
	r.leases = map[string]*lease{}
	r.mu.Unlock()
	for _, l := range ls {
		l.stop()
	}
}
