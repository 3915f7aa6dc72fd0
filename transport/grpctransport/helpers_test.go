package grpctransport_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/reflection"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/transport/grpctransport"
)

// testService is a grpc.testing.TestService whose UnaryCall does what the test says.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	id    string
	unary func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error)
}

func (s *testService) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

func (s *testService) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if s.unary != nil {
		return s.unary(ctx, req)
	}
	return &testgrpc.SimpleResponse{ServerId: s.id}, nil
}

// running is a grpctransport.Server serving on a loopback listener.
type running struct {
	srv    *grpctransport.Server
	addr   string
	served chan error
}

func startServer(t *testing.T, opts grpctransport.ServerOptions, svc testgrpc.TestServiceServer) *running {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := grpctransport.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	testgrpc.RegisterTestServiceServer(s, svc)
	reflection.Register(s.GRPC()) // the one line ServerOptions' doc gives for reflection
	r := &running{srv: s, addr: l.Addr().String(), served: make(chan error, 1)}
	go func() { r.served <- s.Serve(l) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop shuts the server down (at once if it takes more than a second) and checks that
// Serve returned nil.
func (r *running) stop(t *testing.T) {
	if r.served == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	if err := <-r.served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		t.Errorf("Serve: got %v, want nil after Shutdown", err)
	}
	r.served = nil
}

func (r *running) instance(id string) discovery.Instance {
	return discovery.Instance{ID: id, Service: "inventory", Version: "1.0.0",
		Addresses: discovery.Addresses{GRPC: r.addr}, Status: discovery.StatusPassing}
}

func newTestClient(t *testing.T, opts ...grpctransport.ClientOption) (*grpctransport.Client, testgrpc.TestServiceClient) {
	t.Helper()
	c, err := grpctransport.NewClient("inventory", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, testgrpc.NewTestServiceClient(c.Conn())
}

// dial returns a plain connection to the server, closed at the end of the test.
func (r *running) dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(r.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// startBareServer serves svc on a plain *grpc.Server, without Paved's interceptors.
func startBareServer(t *testing.T, svc testgrpc.TestServiceServer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(s, svc)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return l.Addr().String()
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
