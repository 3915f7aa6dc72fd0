package service

import (
	"errors"

	"github.com/paved-road/paved/health/grpchealth"
	"github.com/paved-road/paved/transport/grpctransport"
)

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
