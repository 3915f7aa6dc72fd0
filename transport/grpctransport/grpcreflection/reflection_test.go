package grpcreflection_test

import (
	"context"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/grpctransport/grpcreflection"
)

type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

// serve starts a Paved gRPC server with reflection and the interop test service on a
// loopback port, and returns it with a connection to it.
func serve(t *testing.T) (*grpctransport.Server, *grpc.ClientConn) {
	t.Helper()
	srv, err := grpctransport.NewServer(grpctransport.ServerOptions{Reflection: grpcreflection.New()})
	if err != nil {
		t.Fatal(err)
	}
	testgrpc.RegisterTestServiceServer(srv, &testService{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		<-done
	})
	return srv, conn
}

// A reflection client (what grpcurl uses) lists the registered service, and gets the
// file that defines it.
func TestReflectionListsServices(t *testing.T) {
	_, conn := serve(t)
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.CloseSend()
	ask := func(req *reflectionpb.ServerReflectionRequest) *reflectionpb.ServerReflectionResponse {
		t.Helper()
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !slices.Contains(names, "grpc.testing.TestService") || !slices.Contains(names, "grpc.health.v1.Health") {
		t.Fatalf("got services %v, want grpc.testing.TestService and grpc.health.v1.Health", names)
	}
	resp = ask(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "grpc.testing.TestService"}})
	files := resp.GetFileDescriptorResponse().GetFileDescriptorProto()
	if len(files) == 0 {
		t.Fatalf("got %v, want the file of grpc.testing.TestService", resp)
	}
}

// Describe gives each service but health and reflection a FileDescriptorSet that
// builds into descriptors, imports first, with the service and its methods.
func TestDescribe(t *testing.T) {
	srv, _ := serve(t)
	descs, err := srv.Describe()
	if err != nil {
		t.Fatal(err)
	}
	if len(descs) != 1 || descs[0].Name != "grpc.testing.TestService" {
		t.Fatalf("got %v, want grpc.testing.TestService alone", descs)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(descs[0].FileDescriptorSet, &set); err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(&set) // fails when an import is missing
	if err != nil {
		t.Fatalf("got %v, want a complete set", err)
	}
	d, err := files.FindDescriptorByName("grpc.testing.TestService")
	if err != nil {
		t.Fatal(err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || sd.Methods().ByName("UnaryCall") == nil {
		t.Errorf("got %v, want the service with its method UnaryCall", d)
	}
	again, _ := srv.Describe()
	if !slices.Equal(again[0].FileDescriptorSet, descs[0].FileDescriptorSet) {
		t.Errorf("got a different set on the second call, want the same bytes (a stable digest)")
	}
}

// A service registered without generated code has no descriptor: Describe says so.
func TestDescribeWithoutDescriptor(t *testing.T) {
	srv, err := grpctransport.NewServer(grpctransport.ServerOptions{Reflection: grpcreflection.New()})
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(&grpc.ServiceDesc{ServiceName: "handmade.Echo", HandlerType: (*any)(nil)}, struct{}{})
	if _, err := srv.Describe(); err == nil {
		t.Fatal("got nil, want an error naming handmade.Echo")
	} else if want := `grpcreflection: service "handmade.Echo" has no descriptor`; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("got %v, want %s...", err, want)
	}
}
