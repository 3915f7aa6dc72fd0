package discovery

import (
	"context"
	"log/slog"
)

// Backend is a service registry a program links in: it registers the service and finds
// the instances of the services it calls. The etcd and Consul backends are modules of
// their own (github.com/paved-road/paved/discovery/etcd and .../discovery/consul), so a
// service links one only by passing it, in one line of its main:
//
//	service.Main(info, setup, service.WithRegistryBackend(etcd.Backend()))
//
// after which REGISTRY=etcd selects it. A Backend that is also an io.Closer is closed
// when the service that used it ends, after its registrar and instancers.
type Backend interface {
	// Name is the REGISTRY value that selects the backend, such as "etcd".
	Name() string
	// Registrar returns the registrar of this service. One that is an io.Closer, or has
	// a Close() method, is closed after deregistration.
	Registrar(ctx context.Context, cfg BackendConfig) (Registrar, error)
	// Instancer returns an instancer of the named service, for client-side discovery;
	// it is stopped when the service ends.
	Instancer(ctx context.Context, cfg BackendConfig, service string) (Instancer, error)
}

// BackendConfig is what a [Backend] takes from the service's configuration.
type BackendConfig struct {
	// Endpoints are the registry's addresses as configured (ETCD_ENDPOINTS for etcd);
	// empty for a backend whose client reads its own variables (Consul's
	// CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN...).
	Endpoints []string
	// Logger receives the backend's lost leases and watch errors; nil discards.
	Logger *slog.Logger
}
