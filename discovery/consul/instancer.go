package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/paved-road/paved/discovery"
)

// Instancer is a [discovery.Instancer] of one service's instances in Consul, fed by
// blocking health queries. It is safe for concurrent use. Stop it when done.
type Instancer struct {
	*discovery.Cache
	client  *api.Client
	service string
	wait    time.Duration
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}
}

var _ discovery.Instancer = (*Instancer)(nil)

// NewInstancer starts watching the instances of service. It returns at once; the first
// set arrives when the agent answers. It fails on an invalid service name or option.
func NewInstancer(client *api.Client, service string, opts ...InstancerOption) (*Instancer, error) {
	if client == nil {
		return nil, errors.New("consul: NewInstancer: client is nil; create one with api.NewClient")
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := discovery.ValidateServiceName(service); err != nil {
		return nil, fmt.Errorf("consul: NewInstancer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &Instancer{
		Cache:   discovery.NewCache(o.cacheOpts...),
		client:  client,
		service: service,
		wait:    o.wait,
		log:     o.logger.With("service", service),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go in.run(ctx)
	return in, nil
}

// Stop ends the queries and closes the subscriptions.
func (in *Instancer) Stop() {
	in.cancel()
	<-in.done
	in.Cache.Stop()
}

func (in *Instancer) run(ctx context.Context) {
	defer close(in.done)
	var index uint64
	backoff := discovery.NewBackoff()
	for ctx.Err() == nil {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: in.wait}).WithContext(ctx)
		entries, meta, err := in.client.Health().Service(in.service, "", false, q)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			in.log.Warn("consul health query failed; keeping the last known instances", "error", err.Error())
			in.Update(nil, fmt.Errorf("consul: health of %s: %w", in.service, err))
			if !backoff.Wait(ctx) {
				return
			}
			continue
		}
		backoff.Reset()
		// Consul's advice: restart from 0 when the index goes back.
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
		insts := make([]discovery.Instance, 0, len(entries))
		for _, e := range entries {
			if inst, ok := in.instance(e); ok {
				insts = append(insts, inst)
			}
		}
		in.Update(insts, nil)
	}
}

func (in *Instancer) instance(e *api.ServiceEntry) (discovery.Instance, bool) {
	if e == nil || e.Service == nil {
		return discovery.Instance{}, false
	}
	m := e.Service.Meta
	inst := discovery.Instance{
		ID:      m[MetaID],
		Service: e.Service.Service,
		Version: m[MetaVersion],
		Addresses: discovery.Addresses{
			HTTP: m[MetaHTTP], Admin: m[MetaAdmin], GRPC: m[MetaGRPC],
		},
	}
	switch e.Checks.AggregatedStatus() {
	case api.HealthPassing:
		inst.Status = discovery.StatusPassing
	case api.HealthWarning:
		inst.Status = discovery.StatusWarning
	default: // critical, maintenance, unknown
		inst.Status = discovery.StatusCritical
	}
	inst.Metadata = maps.Clone(m)
	maps.DeleteFunc(inst.Metadata, func(k, _ string) bool { return strings.HasPrefix(k, ReservedMetaPrefix) })
	if len(inst.Metadata) == 0 {
		inst.Metadata = nil
	}
	if err := inst.Validate(); err != nil {
		in.log.Warn("ignoring a Consul service that is not a Paved instance", "id", e.Service.ID, "error", err.Error())
		return discovery.Instance{}, false
	}
	return inst, true
}
