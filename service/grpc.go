package service

import (
	"errors"
	"fmt"

	"github.com/paved-road/paved/health/grpchealth"
	"github.com/paved-road/paved/transport/grpctransport"
)

// WithGRPCReflection gives the server that [Service.GRPC] makes server reflection, and
// makes the service publish each gRPC service registered on it as an API of kind grpc
// (its full name, its FileDescriptorSet) at the admin /apis and to the catalog. Pass
// grpcreflection.New() (package
// github.com/paved-road/paved/transport/grpctransport/grpcreflection): a service that
// does not link it does not carry the protobuf descriptor packages.
func WithGRPCReflection(r grpctransport.Reflection) Option {
	return func(s *Service) { s.grpcReflection = r }
}

// publishGRPC publishes the services registered on the gRPC server, when the main
// linked reflection. A service whose name is no API name (longer than 63
// characters) is left out with a warning.
func (s *Service) publishGRPC() error {
	s.mu.Lock()
	g := s.grpcServer
	s.mu.Unlock()
	if g == nil {
		return nil
	}
	descs, err := g.Describe()
	if err != nil {
		return fmt.Errorf("service: describing the gRPC services: %w", err)
	}
	for _, d := range descs {
		pub, list := checkAPI("gRPC service "+d.Name, API{Name: d.Name, Kind: APIKindGRPC, Definition: d.FileDescriptorSet})
		if len(list) > 0 {
			s.logger.Warn("gRPC service not published as an API", "service", d.Name, "problem", (&ConfigError{Problems: list}).Error())
			continue
		}
		if err := s.publish(pub); err != nil {
			return err
		}
	}
	return nil
}

// GRPC returns the service's gRPC server on GRPC_ADDR, creating it on the first call:
// Paved's interceptors (request id, rpc_server_duration_seconds, panic recovery, deadline
// propagation), server spans from the service's tracer, and grpc.health.v1 answered
// from the service's health registry (so it turns NOT_SERVING with readiness at the
// stop). Register services on it in setup; Run serves it with the same lifecycle as the
// HTTP server (GracefulStop under SHUTDOWN_TIMEOUT, then Stop). It fails when
// GRPC_ADDR is empty.
func (s *Service) GRPC() (*grpctransport.Server, error) {
	s.mu.Lock()
	g := s.grpcServer
	s.mu.Unlock()
	if g != nil {
		return g, nil
	}
	if s.cfg.GRPCAddr == "" {
		return nil, errors.New("service: GRPC needs GRPC_ADDR set to a listen address such as :9000")
	}
	g, err := grpctransport.NewServer(grpctransport.ServerOptions{
		Logger:         s.logger,
		TracerProvider: s.tracer,
		Propagator:     s.propagator,
		Registerer:     s.registry,
		Health:         grpchealth.New(s.health),
		Reflection:     s.grpcReflection,
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.grpcServer = g
	s.mu.Unlock()
	s.addServer("grpc", "GRPC_ADDR", s.cfg.GRPCAddr, g)
	return g, nil
}
