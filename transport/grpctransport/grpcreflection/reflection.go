package grpcreflection

import (
	"fmt"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/paved-road/paved/transport/grpctransport"
)

// Reflection is the [grpctransport.Reflection] of google.golang.org/grpc/reflection.
type Reflection struct{}

var _ grpctransport.Reflection = (*Reflection)(nil)

// New returns the reflection to pass as grpctransport.ServerOptions.Reflection or to
// service.WithGRPCReflection.
func New() *Reflection { return &Reflection{} }

// Register registers the reflection service (v1 and v1alpha) on srv.
func (*Reflection) Register(srv *grpc.Server) { reflection.Register(srv) }

// hidden are the services Describe leaves out: the server's own plumbing.
var hidden = []string{
	"grpc.health.v1.Health",
	"grpc.reflection.v1.ServerReflection",
	"grpc.reflection.v1alpha.ServerReflection",
}

// Describe returns each service registered on srv but health and reflection, sorted by
// name, with the FileDescriptorSet of the file that defines it and its imports.
func (*Reflection) Describe(srv *grpc.Server) ([]grpctransport.ServiceDescriptor, error) {
	var names []string
	for name := range srv.GetServiceInfo() {
		if !slices.Contains(hidden, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := make([]grpctransport.ServiceDescriptor, 0, len(names))
	for _, name := range names {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("grpcreflection: service %q has no descriptor in the protobuf registry (is it registered with generated code?): %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("grpcreflection: %q is a %T in the protobuf registry, not a service", name, d)
		}
		set := &descriptorpb.FileDescriptorSet{}
		seen := map[string]bool{}
		addFile(set, seen, sd.ParentFile())
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
		if err != nil {
			return nil, fmt.Errorf("grpcreflection: service %q: %w", name, err)
		}
		out = append(out, grpctransport.ServiceDescriptor{Name: name, FileDescriptorSet: b})
	}
	return out, nil
}

// addFile adds f to set after the files it imports, each once.
func addFile(set *descriptorpb.FileDescriptorSet, seen map[string]bool, f protoreflect.FileDescriptor) {
	if seen[f.Path()] {
		return
	}
	seen[f.Path()] = true
	imports := f.Imports()
	for i := range imports.Len() {
		addFile(set, seen, imports.Get(i).FileDescriptor)
	}
	set.File = append(set.File, protodesc.ToFileDescriptorProto(f))
}
