package grpchealth

import (
	"context"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/health"
)

// Server implements grpc_health_v1.HealthServer from a health.Registry. Register it with
// grpc_health_v1.RegisterHealthServer.
type Server struct {
	healthpb.UnimplementedHealthServer
	reg *health.Registry
	// mu guards services.
	mu       sync.RWMutex
	services map[string]bool
	// closing is closed by Close: Watch streams end, so a graceful stop is not held.
	closing   chan struct{}
	closeOnce sync.Once
}

var _ healthpb.HealthServer = (*Server)(nil)

// New returns a Server answering from reg. Each name in services (such as
// "orders.v1.Orders") answers as the readiness set; AddService adds more.
func New(reg *health.Registry, services ...string) *Server {
	s := &Server{reg: reg, services: map[string]bool{}, closing: make(chan struct{})}
	s.AddService(services...)
	return s
}

// AddService makes each name (a gRPC service such as "grpc.testing.TestService")
// answer as the readiness set, as the names given to New do. grpctransport.Server
// calls it for every service registered on it, so a probe of any of them answers the
// readiness of the whole server. It is safe to call while the server answers.
func (s *Server) AddService(names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		s.services[n] = true
	}
}

// isService reports whether name was given to New or AddService.
func (s *Server) isService(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.services[name]
}

// set is the probe set a reserved service name stands for, or 0.
func set(service string) health.Kind {
	switch service {
	case "", "readiness":
		return health.Readiness
	case "liveness":
		return health.Liveness
	case "startup":
		return health.Startup
	}
	return 0
}

// target is what a gRPC service name refers to: a set, or one check (any kind).
type target struct {
	kind  health.Kind
	check string
}

func (s *Server) resolve(service string) (target, bool) {
	if k := set(service); k != 0 {
		return target{kind: k}, true
	}
	if s.isService(service) {
		return target{kind: health.Readiness}, true
	}
	for _, c := range s.reg.Checks() {
		if c.Name == service {
			return target{kind: health.AllKinds, check: service}, true
		}
	}
	return target{}, false
}

func (s *Server) evaluate(ctx context.Context, t target) healthpb.HealthCheckResponse_ServingStatus {
	var st health.Status
	if t.check != "" {
		cr, err := s.reg.EvaluateCheck(ctx, t.kind, t.check)
		if err != nil {
			return healthpb.HealthCheckResponse_SERVICE_UNKNOWN
		}
		st = cr.Status
	} else {
		rep, _ := s.reg.Evaluate(ctx, t.kind)
		st = rep.Status
	}
	return serving(st)
}

func serving(st health.Status) healthpb.HealthCheckResponse_ServingStatus {
	if st.OK() {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

// Check answers the status of one service, evaluating stale checks as an HTTP probe
// does. An unknown service is codes.NotFound.
func (s *Server) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	t, ok := s.resolve(in.GetService())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "unknown service %q", in.GetService())
	}
	return &healthpb.HealthCheckResponse{Status: s.evaluate(ctx, t)}, nil
}

// List answers every service name the server knows: "", the sets, the names given to
// New and every registered check.
func (s *Server) List(ctx context.Context, _ *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error) {
	names := []string{"", "liveness", "readiness", "startup"}
	s.mu.RLock()
	for n := range s.services {
		names = append(names, n)
	}
	s.mu.RUnlock()
	for _, c := range s.reg.Checks() {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	out := &healthpb.HealthListResponse{Statuses: make(map[string]*healthpb.HealthCheckResponse, len(names))}
	for _, n := range names {
		t, _ := s.resolve(n)
		out.Statuses[n] = &healthpb.HealthCheckResponse{Status: s.evaluate(ctx, t)}
	}
	return out, nil
}

// Watch streams the status of one service: the current one, then each change, until the
// client goes away. An unknown service gets SERVICE_UNKNOWN and the stream stays open.
func (s *Server) Watch(in *healthpb.HealthCheckRequest, stream healthpb.Health_WatchServer) error {
	ctx := stream.Context()
	t, ok := s.resolve(in.GetService())
	if !ok {
		if err := stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVICE_UNKNOWN}); err != nil {
			return err
		}
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	// Evaluate first so on-demand checks have a result, then follow the changes.
	last := s.evaluate(ctx, t)
	if err := stream.Send(&healthpb.HealthCheckResponse{Status: last}); err != nil {
		return err
	}
	var ch <-chan health.Status
	if t.check != "" {
		var err error
		if ch, err = s.reg.WatchCheck(ctx, t.kind, t.check); err != nil {
			return status.Error(codes.NotFound, err.Error())
		}
	} else {
		ch = s.reg.Watch(ctx, t.kind)
	}
	// On-demand checks change only when evaluated: re-evaluate every WatchRefresh
	// (cheap while results are cached; a run at most once per cache period).
	tick := time.NewTicker(WatchRefresh)
	defer tick.Stop()
	for {
		select {
		case st, open := <-ch:
			if !open {
				return status.FromContextError(ctx.Err()).Err()
			}
			if next := serving(st); next != last {
				last = next
				if err := stream.Send(&healthpb.HealthCheckResponse{Status: next}); err != nil {
					return err
				}
			}
		case <-tick.C:
			s.evaluate(ctx, t) // a change arrives on ch
		case <-s.closing:
			// Tell the watcher where things stand, then end the stream: a server's
			// graceful stop waits for every stream, and a watcher would otherwise hold it
			// until its timeout.
			if next := s.evaluate(ctx, t); next != last {
				_ = stream.Send(&healthpb.HealthCheckResponse{Status: next})
			}
			return status.Error(codes.Unavailable, "health: server shutting down")
		}
	}
}

// Close ends every Watch stream (after sending the latest status) and makes later
// Watch calls end at once, so that the gRPC server's GracefulStop is not held by
// watchers. Call it when the server stops; grpctransport.Server.Shutdown does. Check
// keeps answering.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// WatchRefresh is how often Watch evaluates its target, so that on-demand checks (which
// change only when evaluated) are seen to change by watchers.
const WatchRefresh = time.Second
