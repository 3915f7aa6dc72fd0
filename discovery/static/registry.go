package static

import (
	"context"
	"fmt"
	"sync"

	"github.com/paved-road/paved/discovery"
)

// Registry is an in-memory registry: instances registered with it are seen at once by
// its instancers. Registrations do not expire: TTLs are not enforced. [Registry.Forget]
// drops registrations as a registry restarted empty would, so tests can exercise
// re-registration.
//
// Registry is safe for concurrent use; the zero value is an empty registry.
type Registry struct {
	// mu guards the fields below.
	mu        sync.Mutex
	services  map[string]map[string]discovery.Instance // service → id → instance
	instancer map[string]map[*Instancer]struct{}       // service → live instancers
}

var _ discovery.Registrar = (*Registry)(nil)

// Register implements [discovery.Registrar].
func (r *Registry) Register(ctx context.Context, inst discovery.Instance) error {
	if err := inst.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.services == nil {
		r.services = map[string]map[string]discovery.Instance{}
	}
	if r.services[inst.Service] == nil {
		r.services[inst.Service] = map[string]discovery.Instance{}
	}
	r.services[inst.Service][inst.ID] = inst.Clone()
	r.notifyLocked(inst.Service)
	return nil
}

// Heartbeat implements [discovery.Registrar]: it updates the instance's status, or
// returns an error matching [discovery.ErrUnknownInstance].
func (r *Registry) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	if !inst.Status.Valid() {
		return fmt.Errorf("static: heartbeat %s/%s: status must be one of passing, warning, critical, got %q", inst.Service, inst.ID, inst.Status)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.services[inst.Service][inst.ID]
	if !ok {
		return fmt.Errorf("static: heartbeat %s/%s: %w", inst.Service, inst.ID, discovery.ErrUnknownInstance)
	}
	if cur.Status != inst.Status {
		cur.Status = inst.Status
		r.services[inst.Service][inst.ID] = cur
		r.notifyLocked(inst.Service)
	}
	return nil
}

// Deregister implements [discovery.Registrar].
func (r *Registry) Deregister(ctx context.Context, inst discovery.Instance) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.services[inst.Service][inst.ID]; ok {
		delete(r.services[inst.Service], inst.ID)
		r.notifyLocked(inst.Service)
	}
	return nil
}

// Forget drops the registration of the instance id of service, as a registry restarted
// empty would: its next heartbeat fails with [discovery.ErrUnknownInstance]. An empty id
// drops every instance of the service. It reports whether anything was dropped.
func (r *Registry) Forget(service, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	insts := r.services[service]
	n := len(insts)
	if id == "" {
		clear(insts)
	} else {
		delete(insts, id)
	}
	if len(insts) == n {
		return false
	}
	r.notifyLocked(service)
	return true
}

// Lookup returns the registered instance id of service, whatever its status.
func (r *Registry) Lookup(service, id string) (discovery.Instance, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inst, ok := r.services[service][id]
	return inst.Clone(), ok
}

// Instancer returns an instancer of the ready instances of service, fed by this
// registry. Stop it when done.
func (r *Registry) Instancer(service string, opts ...discovery.CacheOption) *Instancer {
	in := &Instancer{Cache: discovery.NewCache(opts...)}
	in.stop = func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.instancer[service], in)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.instancer == nil {
		r.instancer = map[string]map[*Instancer]struct{}{}
	}
	if r.instancer[service] == nil {
		r.instancer[service] = map[*Instancer]struct{}{}
	}
	r.instancer[service][in] = struct{}{}
	in.Update(r.listLocked(service), nil)
	return in
}

func (r *Registry) listLocked(service string) []discovery.Instance {
	out := make([]discovery.Instance, 0, len(r.services[service]))
	for _, inst := range r.services[service] {
		out = append(out, inst)
	}
	return out
}

func (r *Registry) notifyLocked(service string) {
	if len(r.instancer[service]) == 0 {
		return
	}
	all := r.listLocked(service)
	for in := range r.instancer[service] {
		in.Update(all, nil)
	}
}

// Backend returns r as the [discovery.Backend] named name (the REGISTRY value that
// selects it), for tests and for programs whose instances register in process: its
// registrar is r and its instancers are r's. It ignores the backend configuration.
func (r *Registry) Backend(name string) discovery.Backend { return registryBackend{r: r, name: name} }

type registryBackend struct {
	r    *Registry
	name string
}

func (b registryBackend) Name() string { return b.name }

func (b registryBackend) Registrar(context.Context, discovery.BackendConfig) (discovery.Registrar, error) {
	return b.r, nil
}

func (b registryBackend) Instancer(_ context.Context, _ discovery.BackendConfig, service string) (discovery.Instancer, error) {
	return b.r.Instancer(service), nil
}
