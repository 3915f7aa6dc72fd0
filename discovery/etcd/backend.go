package etcd

import (
	"context"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/paved-road/paved/discovery"
)

// Name is the REGISTRY value of the etcd backend.
const Name = "etcd"

// Backend returns the etcd registry backend, for service.WithRegistryBackend: REGISTRY=etcd
// then registers the service under the prefix with a lease renewed by heartbeats, and
// finds dependencies by watching the prefix. One client, built from ETCD_ENDPOINTS at the
// first use ([NewClient]'s settings), serves the registrar and every instancer, and is
// closed with the backend. Each of opts goes where its kind says: an [Option] such as
// [WithPrefix] to the registrar and the instancers, an [InstancerOption] such as
// [WithCacheOptions] or [WithRevisionCheck] to the instancers. The service's logger is
// used unless [WithLogger] gives another.
func Backend(opts ...BackendOption) *Registry {
	return &Registry{opts: opts}
}

// Registry is the [discovery.Backend] that [Backend] returns. It is safe for
// concurrent use.
type Registry struct {
	opts []BackendOption

	mu     sync.Mutex
	client *clientv3.Client // built at the first Registrar or Instancer call
}

var _ discovery.Backend = (*Registry)(nil)

// Name returns "etcd".
func (b *Registry) Name() string { return Name }

func (b *Registry) clientFor(cfg discovery.BackendConfig) (*clientv3.Client, []BackendOption, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client == nil {
		c, err := NewClient(cfg.Endpoints)
		if err != nil {
			return nil, nil, err
		}
		b.client = c
	}
	opts := b.opts
	if cfg.Logger != nil {
		opts = append([]BackendOption{WithLogger(cfg.Logger)}, opts...) // an explicit WithLogger wins
	}
	return b.client, opts, nil
}

// Registrar returns a [Registrar] on the backend's client.
func (b *Registry) Registrar(_ context.Context, cfg discovery.BackendConfig) (discovery.Registrar, error) {
	c, opts, err := b.clientFor(cfg)
	if err != nil {
		return nil, err
	}
	reg, _ := split(opts)
	return NewRegistrar(c, reg...)
}

// Instancer returns an [Instancer] of service on the backend's client.
func (b *Registry) Instancer(_ context.Context, cfg discovery.BackendConfig, service string) (discovery.Instancer, error) {
	c, opts, err := b.clientFor(cfg)
	if err != nil {
		return nil, err
	}
	_, inst := split(opts)
	return NewInstancer(c, service, inst...)
}

// Close closes the client, if one was built.
func (b *Registry) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client == nil {
		return nil
	}
	err := b.client.Close()
	b.client = nil
	return err
}
