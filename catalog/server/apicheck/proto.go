package apicheck

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/paved-road/paved/catalog"
)

// loadProto reads a FileDescriptorSet (the definition of a gRPC API) and links it.
func loadProto(def []byte) (*protoregistry.Files, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(def, &set); err != nil {
		return nil, fmt.Errorf("not a protobuf FileDescriptorSet: %w", err)
	}
	if len(set.File) == 0 {
		return nil, fmt.Errorf("the FileDescriptorSet has no file")
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("the FileDescriptorSet does not link: %w", err)
	}
	return files, nil
}

// protoIndex is what a FileDescriptorSet defines, by full name.
type protoIndex struct {
	services map[protoreflect.FullName]protoreflect.ServiceDescriptor
	messages map[protoreflect.FullName]protoreflect.MessageDescriptor
}

func indexProto(files *protoregistry.Files) protoIndex {
	ix := protoIndex{services: map[protoreflect.FullName]protoreflect.ServiceDescriptor{}, messages: map[protoreflect.FullName]protoreflect.MessageDescriptor{}}
	var addMessages func(ms protoreflect.MessageDescriptors)
	addMessages = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			m := ms.Get(i)
			if m.IsMapEntry() {
				continue
			}
			ix.messages[m.FullName()] = m
			addMessages(m.Messages())
		}
	}
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			s := fd.Services().Get(i)
			ix.services[s.FullName()] = s
		}
		addMessages(fd.Messages())
		return true
	})
	return ix
}

func checkProto(prev, next []byte) ([]catalog.BreakingChange, error) {
	f1, err1 := loadProto(prev)
	f2, err2 := loadProto(next)
	if err := which(err1, err2); err != nil {
		return nil, fmt.Errorf("apicheck: protobuf: %w", err)
	}
	a, b := indexProto(f1), indexProto(f2)
	var out []catalog.BreakingChange
	add := func(id, op, format string, args ...any) {
		out = append(out, catalog.BreakingChange{ID: id, Operation: op, Message: fmt.Sprintf(format, args...)})
	}
	for _, name := range sortedKeys(a.services) {
		s1 := a.services[name]
		s2, ok := b.services[name]
		if !ok {
			add("grpc-service-removed", string(name), "service %s was removed", name)
			continue
		}
		for i := range s1.Methods().Len() {
			m1 := s1.Methods().Get(i)
			op := string(name) + "/" + string(m1.Name())
			m2 := s2.Methods().ByName(m1.Name())
			switch {
			case m2 == nil:
				add("grpc-method-removed", op, "method %s was removed", op)
			case m1.Input().FullName() != m2.Input().FullName():
				add("grpc-method-request-changed", op, "method %s takes %s instead of %s", op, m2.Input().FullName(), m1.Input().FullName())
			case m1.Output().FullName() != m2.Output().FullName():
				add("grpc-method-response-changed", op, "method %s returns %s instead of %s", op, m2.Output().FullName(), m1.Output().FullName())
			case m1.IsStreamingClient() != m2.IsStreamingClient() || m1.IsStreamingServer() != m2.IsStreamingServer():
				add("grpc-method-streaming-changed", op, "method %s changed from %s to %s", op, streaming(m1), streaming(m2))
			}
		}
	}
	for _, name := range sortedKeys(a.messages) {
		m1 := a.messages[name]
		m2, ok := b.messages[name]
		if !ok {
			add("proto-message-removed", string(name), "message %s was removed", name)
			continue
		}
		fs1 := m1.Fields()
		for i := range fs1.Len() {
			f1 := fs1.Get(i)
			op := string(name) + "." + string(f1.Name())
			byNum := m2.Fields().ByNumber(f1.Number())
			byName := m2.Fields().ByName(f1.Name())
			switch {
			case byNum == nil && byName == nil:
				add("proto-field-removed", op, "field %s (number %d) was removed", op, f1.Number())
			case byNum == nil || (byName != nil && byName.Number() != f1.Number()):
				add("proto-field-number-changed", op, "field %s changed its number from %d to %d", op, f1.Number(), byName.Number())
			case byNum.Name() != f1.Name() && byName == nil:
				add("proto-field-renamed", op, "field %d of %s was renamed from %s to %s (JSON and reflection clients break)", f1.Number(), name, f1.Name(), byNum.Name())
			case fieldType(f1) != fieldType(byNum):
				add("proto-field-type-changed", op, "field %s (number %d) changed its type from %s to %s", op, f1.Number(), fieldType(f1), fieldType(byNum))
			}
		}
	}
	return out, nil
}

// fieldType describes a field's type and cardinality: "repeated string",
// "shop.v1.Item", "map<string, int64>".
func fieldType(f protoreflect.FieldDescriptor) string {
	if f.IsMap() {
		return "map<" + fieldType(f.MapKey()) + ", " + fieldType(f.MapValue()) + ">"
	}
	t := f.Kind().String()
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		t = string(f.Message().FullName())
	case protoreflect.EnumKind:
		t = string(f.Enum().FullName())
	}
	if f.IsList() {
		return "repeated " + t
	}
	return t
}

func streaming(m protoreflect.MethodDescriptor) string {
	switch {
	case m.IsStreamingClient() && m.IsStreamingServer():
		return "bidirectional streaming"
	case m.IsStreamingClient():
		return "client streaming"
	case m.IsStreamingServer():
		return "server streaming"
	}
	return "unary"
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
