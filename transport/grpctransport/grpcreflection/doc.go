// Package grpcreflection gives a Paved gRPC server server reflection
// (google.golang.org/grpc/reflection, v1 and v1alpha, for grpcurl and the like) and the
// descriptors of its services, the contracts a service publishes on its admin port at
// /apis/{name} and describes to the catalog.
//
// It is a package of its own because it links the protobuf descriptor packages (about
// 0.6 MB), which a service without gRPC should not carry. A main that wants it passes
// it to the service:
//
//	service.Main(info, setup, service.WithGRPCReflection(grpcreflection.New()))
//
// or, without the service package, sets grpctransport.ServerOptions.Reflection.
//
// Descriptors come from the process's protobuf registry (protoregistry.GlobalFiles),
// where generated code registers them; a service registered without generated code has
// none, and Describe says so. A [Reflection] holds no state and is safe for concurrent
// use; the zero value is ready to use.
package grpcreflection
