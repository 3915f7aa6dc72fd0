package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/store"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/service"
)

// selfRegistrar registers the catalog in its own store. The catalog is the registry its
// services register in, so it registers there too: its component and its instance, which
// heartbeats like any other, so /api/v1/targets hands its admin address to Prometheus
// (when the address policy allows it) and every replica over a shared etcd store is
// listed. It writes to the store directly: no token, no HTTP round trip. It is safe for
// concurrent use once bound.
type selfRegistrar struct {
	component catalog.Component
	started   time.Time

	// mu guards st, bound by setup once the store is open.
	mu sync.Mutex
	st store.Store
}

var _ discovery.Registrar = (*selfRegistrar)(nil)

func newSelfRegistrar(i service.Info) *selfRegistrar {
	c := catalog.Component{
		Name:         i.Name,
		Owner:        i.Owner,
		Namespace:    i.Namespace,
		Description:  i.Description,
		Type:         i.Type,
		Tier:         i.Tier,
		Lifecycle:    catalog.Lifecycle(i.Lifecycle),
		Links:        catalog.Links(i.Links),
		DependsOn:    i.DependsOn,
		ProvidesAPIs: i.ProvidesAPIs,
		Labels:       i.Labels,
	}.WithDefaults()
	return &selfRegistrar{component: c, started: time.Now().UTC()}
}

// bind gives the registrar the store to register in.
func (r *selfRegistrar) bind(st store.Store) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = st
}

func (r *selfRegistrar) store() (store.Store, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.st == nil {
		return nil, errors.New("catalog: self-registration before the store is open")
	}
	return r.st, nil
}

// instance converts the agent's instance into the catalog's form.
func (r *selfRegistrar) instance(inst discovery.Instance) catalog.Instance {
	ttl := max(int(inst.EffectiveTTL().Round(time.Second)/time.Second), catalog.MinTTLSeconds)
	return catalog.Instance{
		ID:         inst.ID,
		Component:  inst.Service,
		Version:    inst.Version,
		Addresses:  catalog.Addresses{HTTP: inst.Addresses.HTTP, Admin: inst.Addresses.Admin, GRPC: inst.Addresses.GRPC},
		StartedAt:  r.started,
		TTLSeconds: ttl,
		Status:     catalog.Status(inst.Status),
		Metadata:   inst.Metadata,
	}
}

// Register upserts the catalog's component and registers its instance.
func (r *selfRegistrar) Register(ctx context.Context, inst discovery.Instance) error {
	if err := inst.Validate(); err != nil {
		return err
	}
	st, err := r.store()
	if err != nil {
		return err
	}
	if _, err := st.PutComponent(ctx, r.component); err != nil {
		return fmt.Errorf("catalog: registering itself: %w", err)
	}
	if _, err := st.PutInstance(ctx, r.instance(inst)); err != nil {
		return fmt.Errorf("catalog: registering itself: %w", err)
	}
	return nil
}

// Heartbeat refreshes the instance; one the store forgot is reported as
// discovery.ErrUnknownInstance so the agent registers again.
func (r *selfRegistrar) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	st, err := r.store()
	if err != nil {
		return err
	}
	_, err = st.HeartbeatInstance(ctx, r.instance(inst))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", discovery.ErrUnknownInstance, err)
	}
	return err
}

// Deregister removes the instance; one already gone is not an error.
func (r *selfRegistrar) Deregister(ctx context.Context, inst discovery.Instance) error {
	st, err := r.store()
	if err != nil {
		return err
	}
	if err := st.DeleteInstance(ctx, inst.Service, inst.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
