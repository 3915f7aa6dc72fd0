package grpctransport_test

import (
	"context"
	"fmt"
	"net"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/httptransport"
)

type greeter struct {
	testgrpc.UnimplementedTestServiceServer
}

func (greeter) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Username: "served request " + httptransport.RequestIDFrom(ctx)}, nil
}

// A server with Paved's interceptors and the health service, and a client that finds
// it through discovery (the "paved" resolver) and calls it under a resilience policy.
func ExampleNewServer() {
	srv, err := grpctransport.NewServer(grpctransport.ServerOptions{})
	if err != nil {
		panic(err)
	}
	testgrpc.RegisterTestServiceServer(srv, greeter{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	instances := static.NewInstancer([]discovery.Instance{{
		ID: "inventory-1", Service: "inventory", Version: "1.0.0", Status: discovery.StatusPassing,
		Addresses: discovery.Addresses{GRPC: l.Addr().String()},
	}})
	defer instances.Stop()
	policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{})
	if err != nil {
		panic(err)
	}
	client, err := grpctransport.NewClient("inventory", grpctransport.WithInstancer(instances), grpctransport.WithPolicy(policy))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	ctx := httptransport.WithRequestID(context.Background(), "req-1")
	resp, err := testgrpc.NewTestServiceClient(client.Conn()).UnaryCall(ctx, &testgrpc.SimpleRequest{})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Username)
	hr, err := healthpb.NewHealthClient(client.Conn()).Check(ctx, &healthpb.HealthCheckRequest{Service: "grpc.testing.TestService"})
	if err != nil {
		panic(err)
	}
	fmt.Println(hr.Status)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(shutdownCtx), <-served)
	// Output:
	// served request req-1
	// SERVING
	// <nil> <nil>
}
