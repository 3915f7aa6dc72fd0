package consul

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/paved-road/paved/discovery"
)

// Name is the REGISTRY value of the Consul backend.
const Name = "consul"

// Backend returns the Consul registry backend, for service.WithRegistryBackend:
// REGISTRY=consul then registers the service with the local agent, with a TTL check
// passed by heartbeats, and finds dependencies with blocking queries of the health API.
// The client is Consul's own default (api.DefaultConfig), so it reads Consul's standard
// variables: CONSUL_HTTP_ADDR (default 127.0.0.1:8500), CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_SSL, CONSUL_CACERT and the others its documentation lists. Each of opts
// goes where its kind says: an [Option] to the registrar and the instancers, a
// [RegistrarOption] such as [WithDeregisterCriticalAfter] to the registrar, an
// [InstancerOption] such as [WithWaitTime] to the instancers. The service's logger is
// used unless [WithLogger] gives another.
func Backend(opts ...BackendOption) *Registry {
	return &Registry{opts: opts}
}

// Registry is the [discovery.Backend] that [Backend] returns. It is safe for
// concurrent use.
type Registry struct {
	opts []BackendOption

	mu        sync.Mutex
	client    *api.Client // built at the first Registrar or Instancer call
	closeIdle func()      // closes the client's idle connections
}

var _ discovery.Backend = (*Registry)(nil)

// Name returns "consul".
func (b *Registry) Name() string { return Name }

func (b *Registry) clientFor(cfg discovery.BackendConfig) (*api.Client, []BackendOption, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client == nil {
		cfg := api.DefaultConfig()
		c, err := api.NewClient(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("consul: client from CONSUL_HTTP_* settings: %w", err)
		}
		b.client, b.closeIdle = c, cfg.Transport.CloseIdleConnections
	}
	opts := b.opts
	if cfg.Logger != nil {
		opts = append([]BackendOption{WithLogger(cfg.Logger)}, opts...)
	}
	return b.client, opts, nil
}

// Registrar returns a [Registrar] on the local agent.
func (b *Registry) Registrar(_ context.Context, cfg discovery.BackendConfig) (discovery.Registrar, error) {
	c, opts, err := b.clientFor(cfg)
	if err != nil {
		return nil, err
	}
	reg, _ := split(opts)
	return NewRegistrar(c, reg...)
}

// Instancer returns an [Instancer] of service.
func (b *Registry) Instancer(_ context.Context, cfg discovery.BackendConfig, service string) (discovery.Instancer, error) {
	c, opts, err := b.clientFor(cfg)
	if err != nil {
		return nil, err
	}
	_, inst := split(opts)
	return NewInstancer(c, service, inst...)
}

// Close releases the client's idle connections, if a client was built.
func (b *Registry) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closeIdle != nil {
		b.closeIdle()
	}
	b.client, b.closeIdle = nil, nil
	return nil
}
