package grpcreflection_test

import (
	"fmt"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/grpctransport/grpcreflection"
)

// A server with reflection describes the services registered on it: the contract a
// service publishes for each. In a service, service.WithGRPCReflection(grpcreflection.New())
// does this for the server of s.GRPC().
func Example() {
	srv, err := grpctransport.NewServer(grpctransport.ServerOptions{Reflection: grpcreflection.New()})
	if err != nil {
		panic(err)
	}
	testgrpc.RegisterTestServiceServer(srv, testgrpc.UnimplementedTestServiceServer{})
	descs, err := srv.Describe()
	if err != nil {
		panic(err)
	}
	for _, d := range descs {
		fmt.Println(d.Name, len(d.FileDescriptorSet) > 0)
	}
	// Output:
	// grpc.testing.TestService true
}
