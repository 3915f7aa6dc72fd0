package client

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/discovery"
)

// Registrar is the catalog's [discovery.Registrar]: Register upserts the service's
// component (its catalog metadata), registers the instance and reports its compliance
// scorecard; Heartbeat re-sends the instance with its readiness status (and the scorecard
// when it changed); Deregister removes the instance. Build it with [Client.Registrar].
// It is safe for concurrent use.
type Registrar struct {
	c         *Client
	component catalog.Component
	scorecard func() (catalog.Scorecard, bool)
	started   time.Time

	// mu guards sent, the scorecard last accepted by the catalog.
	mu   sync.Mutex
	sent *catalog.Scorecard
}

var _ discovery.Registrar = (*Registrar)(nil)

// Registrar returns a registrar for the service described by component. scorecard,
// when not nil, returns the instance's current compliance scorecard (false while there
// is none).
func (c *Client) Registrar(component catalog.Component, scorecard func() (catalog.Scorecard, bool)) *Registrar {
	return &Registrar{c: c, component: component, scorecard: scorecard, started: time.Now().UTC()}
}

// toCatalog converts a discovery instance into the catalog's form.
func (r *Registrar) toCatalog(inst discovery.Instance) catalog.Instance {
	ttl := int(inst.EffectiveTTL().Round(time.Second) / time.Second)
	if ttl < 1 {
		ttl = 1
	}
	return catalog.Instance{
		ID:         inst.ID,
		Component:  inst.Service,
		Version:    inst.Version,
		Addresses:  catalog.Addresses{HTTP: inst.Addresses.HTTP, Admin: inst.Addresses.Admin, GRPC: inst.Addresses.GRPC},
		StartedAt:  r.started,
		TTLSeconds: ttl,
		Status:     inst.Status,
		Metadata:   inst.Metadata,
	}
}

// Register upserts the component, registers the instance and sends the scorecard.
func (r *Registrar) Register(ctx context.Context, inst discovery.Instance) error {
	if err := inst.Validate(); err != nil {
		return err
	}
	if inst.Service != r.component.Name {
		return fmt.Errorf("catalog: instance of %q registered through the registrar of component %q", inst.Service, r.component.Name)
	}
	if _, err := r.c.PutComponent(ctx, r.component); err != nil {
		return err
	}
	if _, err := r.c.PutInstance(ctx, r.toCatalog(inst)); err != nil {
		return err
	}
	r.mu.Lock()
	r.sent = nil // a new registration sends its scorecard again
	r.mu.Unlock()
	return r.sendScorecard(ctx)
}

// Heartbeat re-sends the instance with its status; an instance the catalog forgot (it
// restarted empty, or expired the instance) is reported as discovery.ErrUnknownInstance
// so the agent registers again.
func (r *Registrar) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	_, err := r.c.HeartbeatInstance(ctx, r.toCatalog(inst))
	if errors.Is(err, ErrNotRegistered) || errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", discovery.ErrUnknownInstance, err)
	}
	if err != nil {
		return err
	}
	return r.sendScorecard(ctx)
}

// Deregister removes the instance; one the catalog does not know is already gone.
func (r *Registrar) Deregister(ctx context.Context, inst discovery.Instance) error {
	err := r.c.DeleteInstance(ctx, inst.Service, inst.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// sendScorecard sends the current scorecard when it differs from the last one sent.
func (r *Registrar) sendScorecard(ctx context.Context) error {
	if r.scorecard == nil {
		return nil
	}
	sc, ok := r.scorecard()
	if !ok {
		return nil
	}
	r.mu.Lock()
	same := r.sent != nil && reflect.DeepEqual(*r.sent, sc)
	r.mu.Unlock()
	if same {
		return nil
	}
	if err := r.c.PutScorecard(ctx, sc); err != nil {
		return fmt.Errorf("catalog: sending the scorecard: %w", err)
	}
	r.mu.Lock()
	r.sent = &sc
	r.mu.Unlock()
	return nil
}
