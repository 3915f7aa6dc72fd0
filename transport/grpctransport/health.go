package grpctransport

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// staticHealth is the health service of a server given none: the whole server ("")
// and every registered service are SERVING until shutdown starts, then NOT_SERVING.
// (grpc-go's own health package is not used: its client half registers itself in an
// init function.)
type staticHealth struct {
	healthpb.UnimplementedHealthServer

	// mu guards the fields below.
	mu       sync.Mutex
	services map[string]bool
	down     bool
	changed  chan struct{} // closed and replaced on shutdown
}

func newStaticHealth() *staticHealth {
	return &staticHealth{services: map[string]bool{"": true}, changed: make(chan struct{})}
}

// AddService makes each name answer as the whole server does.
func (h *staticHealth) AddService(names ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range names {
		h.services[n] = true
	}
}

func (h *staticHealth) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		h.down = true
		close(h.changed)
	}
}

func (h *staticHealth) status(service string) (healthpb.HealthCheckResponse_ServingStatus, bool, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.services[service] {
		return healthpb.HealthCheckResponse_SERVICE_UNKNOWN, false, h.changed
	}
	if h.down {
		return healthpb.HealthCheckResponse_NOT_SERVING, true, nil
	}
	return healthpb.HealthCheckResponse_SERVING, true, h.changed
}

// Check implements healthpb.HealthServer.
func (h *staticHealth) Check(_ context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	st, known, _ := h.status(in.GetService())
	if !known {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", in.GetService())
	}
	return &healthpb.HealthCheckResponse{Status: st}, nil
}

// List implements healthpb.HealthServer.
func (h *staticHealth) List(context.Context, *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := &healthpb.HealthListResponse{Statuses: map[string]*healthpb.HealthCheckResponse{}}
	for s := range h.services {
		st := healthpb.HealthCheckResponse_SERVING
		if h.down {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		out.Statuses[s] = &healthpb.HealthCheckResponse{Status: st}
	}
	return out, nil
}

// Watch implements healthpb.HealthServer: the current status, then NOT_SERVING when
// shutdown starts. The stream then ends, so that it does not hold up GracefulStop.
func (h *staticHealth) Watch(in *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	st, _, changed := h.status(in.GetService())
	if err := stream.Send(&healthpb.HealthCheckResponse{Status: st}); err != nil {
		return err
	}
	if changed == nil {
		return nil // already shutting down
	}
	select {
	case <-stream.Context().Done():
		return stream.Context().Err()
	case <-changed:
	}
	st, _, _ = h.status(in.GetService())
	return stream.Send(&healthpb.HealthCheckResponse{Status: st})
}
