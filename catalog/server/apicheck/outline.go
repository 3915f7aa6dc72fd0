package apicheck

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/paved-road/paved/catalog"
)

// Outline is what a definition offers, as an API page lists it.
type Outline struct {
	// Title and Version are the document's info.title and info.version (OpenAPI,
	// AsyncAPI); empty for a protobuf definition.
	Title, Version string
	// Operations are an OpenAPI document's operations, sorted by path, then method.
	Operations []Operation
	// Services are the gRPC services of a FileDescriptorSet, sorted by full name.
	Services []Service
	// Subjects are an AsyncAPI document's channels, sorted by subject.
	Subjects []Subject
}

// Operation is one operation of an OpenAPI document.
type Operation struct {
	Method  string // upper case: GET, POST...
	Path    string // as in the document: /reservations/{id}
	Summary string // the operation's summary, else its operationId
}

// Service is one gRPC service.
type Service struct {
	Name    string // full name: shop.inventory.v1.Inventory
	Methods []Method
}

// Method is one method of a gRPC service.
type Method struct {
	Name     string // Reserve
	Input    string // full name of the request message
	Output   string // full name of the response message
	Kind     string // unary, client streaming, server streaming or bidirectional streaming
	FullPath string // /shop.inventory.v1.Inventory/Reserve, as on the wire
}

// Subject is one channel of an AsyncAPI document.
type Subject struct {
	Name     string   // the channel's address (the subject), else its id
	Summary  string   // the channel's summary
	Actions  []string // the actions of the operations on it: send, receive
	Messages []string // the names of its messages, sorted
}

// Describe returns the outline of a definition of kind kind, or an error saying why
// it cannot be read.
func Describe(kind catalog.APIKind, def []byte) (Outline, error) {
	switch kind {
	case catalog.APIKindOpenAPI:
		return describeOpenAPI(def)
	case catalog.APIKindGRPC:
		return describeProto(def)
	case catalog.APIKindAsyncAPI:
		return describeAsyncAPI(def)
	}
	return Outline{}, fmt.Errorf("apicheck: unknown API kind %q (valid: openapi, grpc, asyncapi)", catalog.Clip(string(kind)))
}

func describeOpenAPI(def []byte) (Outline, error) {
	s, err := loadOpenAPI(def, "definition.json")
	if err != nil {
		return Outline{}, fmt.Errorf("apicheck: OpenAPI: %w", err)
	}
	var o Outline
	if s.Spec.Info != nil {
		o.Title, o.Version = s.Spec.Info.Title, s.Spec.Info.Version
	}
	if s.Spec.Paths != nil {
		for path, item := range s.Spec.Paths.Map() {
			for method, op := range item.Operations() {
				sum := op.Summary
				if sum == "" {
					sum = op.OperationID
				}
				o.Operations = append(o.Operations, Operation{Method: strings.ToUpper(method), Path: path, Summary: sum})
			}
		}
	}
	slices.SortFunc(o.Operations, func(a, b Operation) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(methodRank(a.Method), methodRank(b.Method)), cmp.Compare(a.Method, b.Method))
	})
	return o, nil
}

// methodRank orders methods as people read them: GET first, DELETE last.
func methodRank(m string) int {
	if i := slices.Index([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}, m); i >= 0 {
		return i
	}
	return 99
}

func describeProto(def []byte) (Outline, error) {
	files, err := loadProto(def)
	if err != nil {
		return Outline{}, fmt.Errorf("apicheck: protobuf: %w", err)
	}
	ix := indexProto(files)
	var o Outline
	for _, name := range sortedKeys(ix.services) {
		sd := ix.services[name]
		s := Service{Name: string(name)}
		for i := range sd.Methods().Len() {
			m := sd.Methods().Get(i)
			s.Methods = append(s.Methods, method(sd, m))
		}
		o.Services = append(o.Services, s)
	}
	return o, nil
}

func method(s protoreflect.ServiceDescriptor, m protoreflect.MethodDescriptor) Method {
	return Method{Name: string(m.Name()), Input: string(m.Input().FullName()), Output: string(m.Output().FullName()),
		Kind: streaming(m), FullPath: "/" + string(s.FullName()) + "/" + string(m.Name())}
}

func describeAsyncAPI(def []byte) (Outline, error) {
	d, err := loadAsyncAPI(def)
	if err != nil {
		return Outline{}, fmt.Errorf("apicheck: AsyncAPI: %w", err)
	}
	o := Outline{Title: d.Info.Title, Version: d.Info.Version}
	actions := map[string][]string{} // channel id -> actions
	for _, id := range sortedKeys(d.Operations) {
		op := d.Operations[id]
		ch, ok := strings.CutPrefix(op.Channel.Ref, "#/channels/")
		if ok && !slices.Contains(actions[ch], op.Action) {
			actions[ch] = append(actions[ch], op.Action)
		}
	}
	for _, id := range sortedKeys(d.Channels) {
		c := d.Channels[id]
		o.Subjects = append(o.Subjects, Subject{Name: subject(id, c.Address), Summary: c.Summary, Actions: actions[id], Messages: sortedKeys(c.Messages)})
	}
	slices.SortFunc(o.Subjects, func(a, b Subject) int { return cmp.Compare(a.Name, b.Name) })
	return o, nil
}
