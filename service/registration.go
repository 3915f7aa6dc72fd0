package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/health"
)

// registryBackend is what a REGISTRY value needs: how to register this service, and how
// to find the instances of the services it calls. The built-in catalog backend is one;
// [WithRegistryBackend] adapts a [discovery.Backend] to it.
type registryBackend struct {
	// Registrar builds the registrar; one that is an io.Closer (or has Close()) is
	// closed after deregistration.
	Registrar func(ctx context.Context, cfg *Config, info Info) (discovery.Registrar, error)
	// Instancer builds the instancer of the named dependency for [Service.Client]; nil
	// means the backend offers no client-side discovery. It is stopped with the service.
	Instancer func(ctx context.Context, cfg *Config, dependency string) (discovery.Instancer, error)
}

// WithRegistryBackend links a registry backend in: REGISTRY=b.Name() then registers
// the service with it and finds dependencies through it. The etcd and Consul backends
// are modules of their own, so a service links one only in its main:
//
//	import "github.com/paved-road/paved/discovery/etcd"
//
//	service.Main(info, setup, service.WithRegistryBackend(etcd.Backend()))
//
// The backend gets ETCD_ENDPOINTS as its endpoints when its name is "etcd" (none
// otherwise) and the service's logger. A backend that is an io.Closer is closed when the
// service closes. A backend named "catalog" replaces the built-in one.
func WithRegistryBackend(b discovery.Backend) Option {
	return func(s *Service) {
		name := b.Name()
		bc := func(cfg *Config) discovery.BackendConfig {
			c := discovery.BackendConfig{Logger: s.logger}
			if name == RegistryEtcd {
				c.Endpoints = cfg.EtcdEndpoints
			}
			return c
		}
		if c, ok := b.(io.Closer); ok {
			s.addCloser(c.Close)
		}
		s.backends[name] = registryBackend{
			Registrar: func(ctx context.Context, cfg *Config, _ Info) (discovery.Registrar, error) {
				return b.Registrar(ctx, bc(cfg))
			},
			Instancer: func(ctx context.Context, cfg *Config, dependency string) (discovery.Instancer, error) {
				return b.Instancer(ctx, bc(cfg), dependency)
			},
		}
	}
}

// WithRegistrar makes the service register with r, for a team that builds its registrar
// itself. REGISTRY=none still turns registration off; any other REGISTRY value is not
// used for registration, and the service logs a warning saying so.
func WithRegistrar(r discovery.Registrar) Option {
	return func(s *Service) { s.registrar = r }
}

// Instance describes this running instance for the registry: its id, component, version
// and the addresses clients and Prometheus reach it at. A listener bound to every
// interface (":8080") is advertised with ADVERTISE_HOST, or else the host name.
func (s *Service) Instance() discovery.Instance {
	inst := discovery.Instance{
		ID:       s.instanceID,
		Service:  s.info.Name,
		Version:  s.info.Version,
		Status:   s.readiness(),
		TTL:      s.cfg.RegistryTTL,
		Metadata: instanceMetadata(s.cfg.Env, s.build),
	}
	if a := s.HTTPAddr(); a != nil {
		inst.Addresses.HTTP = s.advertise(a.String())
	}
	if a := s.AdminAddr(); a != nil {
		inst.Addresses.Admin = s.advertise(a.String())
	}
	if a := s.grpcAddr(); a != "" {
		inst.Addresses.GRPC = s.advertise(a)
	}
	return inst
}

// instanceMetadata is the metadata an instance registers: its environment and, when the
// build has a VCS stamp, its revision (vcs.revision) and that revision's commit time
// (vcs.time, RFC 3339), from which the catalog measures lead time for changes.
func instanceMetadata(env string, b BuildInfo) map[string]string {
	md := map[string]string{"environment": env}
	if b.Revision != "" {
		md["revision"] = b.Revision
	}
	if t, err := time.Parse(time.RFC3339, b.RevisionTime); err == nil {
		md["vcs_time"] = t.UTC().Format(time.RFC3339)
	}
	return md
}

// advertise replaces an unspecified host in addr by ADVERTISE_HOST or the host name.
func (s *Service) advertise(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return addr
	}
	h := s.cfg.AdvertiseHost
	if h == "" {
		h, _ = os.Hostname()
	}
	if h == "" {
		h = "localhost"
	}
	return net.JoinHostPort(h, port)
}

// grpcAddr returns the bound address of the server named "grpc", if any.
func (s *Service) grpcAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boundGRPC
}

// readiness evaluates the readiness set (as a probe does: cached results, stale ones
// run) and maps it to an instance status.
func (s *Service) readiness() discovery.Status {
	none := ""
	if s.state.Load() != stateReady {
		s.failing.Store(&none)
		return discovery.StatusCritical
	}
	ctx, cancel := context.WithTimeout(context.Background(), readinessTimeout)
	defer cancel()
	rep, err := s.health.Evaluate(ctx, health.Readiness)
	if err != nil {
		s.failing.Store(&none)
		return discovery.StatusCritical
	}
	var failing []string
	for _, c := range rep.Checks {
		if !c.Excluded && c.Status != health.StatusPass {
			failing = append(failing, c.Name)
		}
	}
	slices.Sort(failing)
	list := strings.Join(failing, ",")
	if len(list) > discovery.MaxMetadataValueLen {
		list = list[:discovery.MaxMetadataValueLen]
	}
	s.failing.Store(&list)
	switch rep.Status {
	case health.StatusPass:
		return discovery.StatusPassing
	case health.StatusWarn:
		return discovery.StatusWarning
	}
	return discovery.StatusCritical
}

// healthMetadata is the metadata each registration and heartbeat adds: the readiness
// checks that failed at the evaluation just made (readiness), so that the catalog says
// which check fails on which instance.
func (s *Service) healthMetadata() map[string]string {
	if p := s.failing.Load(); p != nil && *p != "" {
		return map[string]string{catalog.FailingChecksMetadata: *p}
	}
	return nil
}

// newAgent builds the registration agent for REGISTRY, or returns nil for none.
func (s *Service) newAgent(ctx context.Context) (*discovery.Agent, error) {
	reg := s.registrar
	name := s.cfg.EffectiveRegistry()
	if reg != nil {
		switch s.cfg.Registry {
		case "":
		case RegistryNone: // none means none, even with the main's own registrar
			s.logger.Info("REGISTRY=none: not registering (the registrar passed with service.WithRegistrar is not used)")
			return nil, nil
		default:
			s.logger.Warn("REGISTRY is not used for registration: the main passed its own registrar (service.WithRegistrar); set REGISTRY=none to turn registration off", "REGISTRY", s.cfg.Registry)
		}
	}
	if reg == nil {
		if name == RegistryNone {
			return nil, nil
		}
		b, ok := s.backends[name]
		if !ok || b.Registrar == nil {
			return nil, fmt.Errorf("service: REGISTRY=%s needs its backend linked in: pass service.WithRegistryBackend(%s.Backend()) from github.com/paved-road/paved/discovery/%s in the main", name, name, name)
		}
		var err error
		if reg, err = b.Registrar(ctx, s.cfg, s.info); err != nil {
			return nil, fmt.Errorf("service: REGISTRY=%s: %w", name, err)
		}
		s.builtRegistrar = reg // the service closes what it built
	}
	return discovery.NewAgent(reg, s.Instance(),
		discovery.WithTTL(s.cfg.RegistryTTL),
		discovery.WithReadiness(s.readiness),
		discovery.WithMetadata(s.healthMetadata),
		discovery.WithLogger(s.logger),
		discovery.WithRegisterer(s.registry),
	)
}

// startRegistration runs the agent in the background; the service serves whether or
// not the registry is reachable. It also makes readiness changes reach the registry at
// once. It returns a func that deregisters, for the stop.
func (s *Service) startRegistration(ctx context.Context) (deregister func(context.Context) error, err error) {
	agent, err := s.newAgent(ctx)
	if err != nil || agent == nil {
		return func(context.Context) error { return nil }, err
	}
	s.SetInfo("registration", func() any {
		st := map[string]any{"registry": s.cfg.EffectiveRegistry(), "state": agent.State()}
		if e := agent.Err(); e != nil {
			st["error"] = e.Error()
		}
		return st
	})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = agent.Run(runCtx)
	}()
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for range s.health.Watch(runCtx, health.Readiness) {
			agent.Refresh()
		}
	}()
	return func(ctx context.Context) error {
		err := agent.Deregister(ctx)
		cancel()
		<-done
		<-watchDone
		if c, ok := s.builtRegistrar.(io.Closer); ok {
			err = errors.Join(err, c.Close())
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("service: deregistering: %w", err)
		}
		return nil
	}, nil
}

// deregisterTimeout bounds deregistration at the stop, so a registry that is down does
// not eat the drain delay.
const deregisterTimeout = 2 * time.Second

// readinessTimeout bounds the readiness evaluation behind a heartbeat.
const readinessTimeout = 5 * time.Second
