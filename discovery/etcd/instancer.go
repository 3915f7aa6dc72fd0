package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/discovery"
)

// Instancer is a [discovery.Instancer] of one service's instances in etcd, fed by a watch
// on the service's prefix. It is safe for concurrent use. Stop it when done.
type Instancer struct {
	*discovery.Cache
	client  *clientv3.Client
	prefix  string // "<prefix>/<service>/"
	service string
	log     *slog.Logger
	check   time.Duration
	cancel  context.CancelFunc
	done    chan struct{}
}

var _ discovery.Instancer = (*Instancer)(nil)

// NewInstancer starts watching the instances of service. It returns at once; the first
// set arrives when etcd answers. It fails on an invalid service name or option.
func NewInstancer(client *clientv3.Client, service string, opts ...InstancerOption) (*Instancer, error) {
	if client == nil {
		return nil, errors.New("etcd: NewInstancer: client is nil; create one with NewClient")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := discovery.ValidateServiceName(service); err != nil {
		return nil, fmt.Errorf("etcd: NewInstancer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &Instancer{
		Cache:   discovery.NewCache(o.cacheOpts...),
		client:  client,
		prefix:  Key(o.prefix, service, ""),
		service: service,
		log:     o.logger.With("service", service),
		check:   o.revisionCheck,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go in.run(ctx)
	return in, nil
}

// Stop ends the watch and closes the subscriptions.
func (in *Instancer) Stop() {
	in.cancel()
	<-in.done
	in.Cache.Stop()
}

func (in *Instancer) run(ctx context.Context) {
	defer close(in.done)
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := in.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		in.log.Warn("etcd watch failed; keeping the last known instances and reading again", "error", err.Error())
		in.Update(nil, err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// watch reads the prefix, then applies watch events from the next revision until an
// error, which it returns.
func (in *Instancer) watch(ctx context.Context) error {
	resp, err := in.client.Get(ctx, in.prefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("etcd: reading %s: %w", in.prefix, err)
	}
	set := map[string]discovery.Instance{}
	for _, kv := range resp.Kvs {
		in.put(set, kv.Key, kv.Value)
	}
	in.Update(values(set), nil)

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	rev := resp.Header.Revision
	wch := in.client.Watch(wctx, in.prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	check := time.NewTicker(in.check)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-check.C:
			// A watch re-established on an etcd restarted empty waits for a revision
			// the new store has not reached and would miss every change until then:
			// notice the store's revision going back and read again.
			resp, err := in.client.Get(ctx, in.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err == nil && resp.Header.Revision < rev {
				return fmt.Errorf("etcd: revision went back from %d to %d (etcd restarted empty?)", rev, resp.Header.Revision)
			}
		case wr, ok := <-wch:
			if !ok {
				return fmt.Errorf("etcd: watching %s: watch closed", in.prefix)
			}
			if err := wr.Err(); err != nil {
				return fmt.Errorf("etcd: watching %s: %w", in.prefix, err)
			}
			for _, ev := range wr.Events {
				switch ev.Type {
				case clientv3.EventTypePut:
					in.put(set, ev.Kv.Key, ev.Kv.Value)
				case clientv3.EventTypeDelete:
					delete(set, string(ev.Kv.Key))
				}
			}
			rev = max(rev, wr.Header.Revision)
			in.Update(values(set), nil)
		}
	}
}

func (in *Instancer) put(set map[string]discovery.Instance, key, value []byte) {
	var inst discovery.Instance
	if err := json.Unmarshal(value, &inst); err != nil {
		in.log.Warn("ignoring an etcd key that is not an instance", "key", string(key), "error", err.Error())
		delete(set, string(key))
		return
	}
	if err := inst.Validate(); err != nil || inst.Service != in.service {
		in.log.Warn("ignoring an invalid instance", "key", string(key), "error", fmt.Sprint(err))
		delete(set, string(key))
		return
	}
	set[string(key)] = inst
}

func values(set map[string]discovery.Instance) []discovery.Instance {
	out := make([]discovery.Instance, 0, len(set))
	for _, v := range set {
		out = append(out, v)
	}
	return out
}
