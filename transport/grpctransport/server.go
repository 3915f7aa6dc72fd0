package grpctransport

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServerOptions configures [NewServer]. The zero value recovers panics, assigns request
// ids, propagates deadlines and serves the built-in health service, with no spans, no
// metrics and no logs.
type ServerOptions struct {
	// Logger receives panics with their stacks; nil discards them.
	Logger *slog.Logger
	// TracerProvider starts the server spans (Paved's stats handler); nil means
	// none, though the caller's trace context still reaches the handler.
	TracerProvider trace.TracerProvider
	// Propagator reads incoming trace context; nil means W3C tracecontext and baggage.
	Propagator propagation.TextMapPropagator
	// Registerer receives rpc_server_call_duration_seconds; nil means no metrics.
	Registerer prometheus.Registerer
	// Health serves grpc.health.v1.Health; nil means a built-in one that answers
	// SERVING for "" and every registered service until Shutdown starts.
	// health/grpchealth.New(registry) answers from the health registry instead. When
	// Health has an AddService(names ...string) method (grpchealth's Server has), the
	// server calls it with the name of every service registered on it, so that each
	// answers as the whole server does.
	Health healthpb.HealthServer
	// Reflection, when set, registers server reflection on the server and describes
	// its services ([Server.Describe]): grpcreflection.New() from
	// transport/grpctransport/grpcreflection, a package of its own so that a program
	// without it does not link the protobuf descriptor packages. Nil means none.
	Reflection Reflection
	// MaxDeadline bounds every call's deadline (see [DeadlineUnary]); 0 or less means no bound
	// beyond the caller's.
	MaxDeadline time.Duration
	// UnaryInterceptors and StreamInterceptors run inside Paved's, in order.
	UnaryInterceptors  []grpc.UnaryServerInterceptor
	StreamInterceptors []grpc.StreamServerInterceptor
	// GRPCOptions are passed to grpc.NewServer after Paved's (credentials, message
	// sizes, keepalive...).
	GRPCOptions []grpc.ServerOption
}

// Server is a gRPC server with Paved's interceptors and the health service. Server
// reflection (for grpcurl and the like) and the services' descriptors come with
// [ServerOptions.Reflection], so that a service without it does not link the
// descriptor packages (about 0.6 MB). It has the Serve and Shutdown methods a service runs its servers
// with. Register services on it as on a *grpc.Server (it is a grpc.ServiceRegistrar).
// A Server is safe for concurrent use; create it with [NewServer].
type Server struct {
	srv    *grpc.Server
	health *staticHealth // nil when the options gave one
	// services is told the name of every registered service: the built-in health
	// service, or a given one that has AddService; nil otherwise.
	services serviceAdder
	// reflection is the options' Reflection, nil without.
	reflection Reflection
	// closeHealth ends a given health server's Watch streams (health/grpchealth's
	// Close), so they do not hold GracefulStop.
	closeHealth func()
}

var _ grpc.ServiceRegistrar = (*Server)(nil)

// serviceAdder is a health server that answers for the gRPC service names it is given.
type serviceAdder interface {
	AddService(names ...string)
}

var _ serviceAdder = (*staticHealth)(nil)

// NewServer returns a server with, outermost first, the tracing stats handler and the
// interceptors request id → metrics → recovery → deadline → opts' own. It returns the
// registerer's error if the metrics cannot be registered.
func NewServer(opts ServerOptions) (*Server, error) {
	metrics, err := NewServerMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	unary := append([]grpc.UnaryServerInterceptor{
		RequestIDUnary(), MetricsUnary(metrics), RecoverUnary(opts.Logger), DeadlineUnary(opts.MaxDeadline),
	}, opts.UnaryInterceptors...)
	stream := append([]grpc.StreamServerInterceptor{
		RequestIDStream(), MetricsStream(metrics), RecoverStream(opts.Logger), DeadlineStream(opts.MaxDeadline),
	}, opts.StreamInterceptors...)
	gopts := append([]grpc.ServerOption{
		grpc.StatsHandler(serverStatsHandler(opts.TracerProvider, opts.Propagator)),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, opts.GRPCOptions...)
	s := &Server{srv: grpc.NewServer(gopts...), reflection: opts.Reflection}
	if opts.Reflection != nil {
		opts.Reflection.Register(s.srv)
	}
	hs := opts.Health
	if c, ok := hs.(interface{ Close() }); ok {
		s.closeHealth = c.Close
	}
	if hs == nil {
		s.health = newStaticHealth()
		hs = s.health
	}
	s.services, _ = hs.(serviceAdder)
	healthpb.RegisterHealthServer(s.srv, hs)
	return s, nil
}

// RegisterService implements grpc.ServiceRegistrar, so generated RegisterXxxServer
// functions take the Server. The health service answers for the service as for the
// whole server (see [ServerOptions.Health]).
func (s *Server) RegisterService(desc *grpc.ServiceDesc, impl any) {
	s.srv.RegisterService(desc, impl)
	if s.services != nil {
		s.services.AddService(desc.ServiceName)
	}
}

// Reflection is gRPC server reflection and the descriptors of the services a server
// serves, the contract a service publishes for each. grpcreflection.New() (package
// transport/grpctransport/grpcreflection) is the implementation.
type Reflection interface {
	// Register registers the reflection service on srv.
	Register(srv *grpc.Server)
	// Describe returns the services registered on srv with their descriptors, sorted
	// by name, leaving out the health and reflection services.
	Describe(srv *grpc.Server) ([]ServiceDescriptor, error)
}

// ServiceDescriptor is a gRPC service and its contract.
type ServiceDescriptor struct {
	// Name is the service's full name, such as "shop.inventory.v1.Inventory".
	Name string
	// FileDescriptorSet is a google.protobuf.FileDescriptorSet in the protobuf wire
	// format, marshalled deterministically: the file that defines the service and
	// every file it imports, imports first (what grpcurl -protoset reads).
	FileDescriptorSet []byte
}

// Describe returns the services registered on the server with their descriptors
// ([Reflection.Describe]), or nil without [ServerOptions.Reflection]. Call it once the
// services are registered.
func (s *Server) Describe() ([]ServiceDescriptor, error) {
	if s.reflection == nil {
		return nil, nil
	}
	return s.reflection.Describe(s.srv)
}

// GRPC returns the underlying *grpc.Server.
func (s *Server) GRPC() *grpc.Server { return s.srv }

// Serve serves gRPC on l until Shutdown; it then returns nil, also when Shutdown came
// first (a service stopped right after it started), which grpc-go reports as
// grpc.ErrServerStopped after closing l. Services registered on the underlying
// *grpc.Server (see GRPC) are made known to the health service here.
func (s *Server) Serve(l net.Listener) error {
	if s.services != nil {
		for name := range s.srv.GetServiceInfo() {
			s.services.AddService(name)
		}
	}
	if err := s.srv.Serve(l); !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Shutdown turns the built-in health service NOT_SERVING, stops accepting calls and
// waits for in-flight calls to finish (GracefulStop). If ctx ends first, it stops the
// server at once (Stop), cancelling the calls still running, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.health != nil {
		s.health.shutdown()
	}
	if s.closeHealth != nil {
		s.closeHealth()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.srv.GracefulStop()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.srv.Stop()
		<-done
		return ctx.Err()
	}
}
