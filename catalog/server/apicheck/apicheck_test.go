package apicheck_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server/apicheck"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ids(cs []catalog.BreakingChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID + " " + c.Operation
	}
	return out
}

// The inventory example's document without its reservation endpoint breaks orders.
func TestOpenAPIRemovedEndpointIsBreaking(t *testing.T) {
	got, err := apicheck.Check(catalog.APIKindOpenAPI, read(t, "inventory.json"), read(t, "inventory-no-reservations.json"))
	if err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if want := []string{"api-path-removed-without-deprecation POST /reservations"}; !slices.Equal(ids(got), want) {
		t.Fatalf("got %v, want %v", ids(got), want)
	}
	if !strings.Contains(strings.ToLower(got[0].Message), "removed") {
		t.Fatalf("message %q: want oasdiff's sentence saying what was removed", got[0].Message)
	}
}

func TestOpenAPICompatibleChangeIsNotBreaking(t *testing.T) {
	for _, next := range []string{"inventory.json", "inventory-compatible.json"} {
		got, err := apicheck.Check(catalog.APIKindOpenAPI, read(t, "inventory.json"), read(t, next))
		if err != nil || len(got) != 0 {
			t.Fatalf("%s: got %v, %v; want no breaking change", next, ids(got), err)
		}
	}
	// Adding the endpoint back is not breaking either.
	if got, err := apicheck.Check(catalog.APIKindOpenAPI, read(t, "inventory-no-reservations.json"), read(t, "inventory.json")); err != nil || len(got) != 0 {
		t.Fatalf("an endpoint added: got %v, %v; want no breaking change", ids(got), err)
	}
}

func TestOpenAPIUnreadableNamesWhich(t *testing.T) {
	_, err := apicheck.Check(catalog.APIKindOpenAPI, read(t, "inventory.json"), []byte("{not json"))
	if err == nil || !strings.Contains(err.Error(), "new definition") || strings.Contains(err.Error(), "previous definition") {
		t.Fatalf("got %v, want an error naming the new definition only", err)
	}
	if _, err := apicheck.Check("soap", nil, nil); err == nil || !strings.Contains(err.Error(), `"soap"`) {
		t.Fatalf("unknown kind: got %v, want an error naming it", err)
	}
}

func TestOpenAPIExternalReferenceRefused(t *testing.T) {
	doc := []byte(`{"openapi":"3.0.3","info":{"title":"x","version":"1"},"paths":{"/a":{"$ref":"file:///etc/passwd"}}}`)
	if _, err := apicheck.Check(catalog.APIKindOpenAPI, doc, doc); err == nil {
		t.Fatal("a document with an external reference: got nil, want an error (the catalog reads no file a definition names)")
	}
}

// inventoryProto returns the FileDescriptorSet of a small inventory gRPC API; change
// edits its file before it is encoded.
func inventoryProto(t *testing.T, change func(f *descriptorpb.FileDescriptorProto)) []byte {
	t.Helper()
	str, i64 := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	f := &descriptorpb.FileDescriptorProto{
		Name: proto.String("shop/inventory/v1/inventory.proto"), Package: proto.String("shop.inventory.v1"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("ReserveRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("sku"), Number: proto.Int32(1), Type: str, Label: opt, JsonName: proto.String("sku")},
				{Name: proto.String("quantity"), Number: proto.Int32(2), Type: i64, Label: opt, JsonName: proto.String("quantity")},
			}},
			{Name: proto.String("ReserveResponse"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("id"), Number: proto.Int32(1), Type: str, Label: opt, JsonName: proto.String("id")},
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Inventory"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Reserve"), InputType: proto.String(".shop.inventory.v1.ReserveRequest"), OutputType: proto.String(".shop.inventory.v1.ReserveResponse")},
			{Name: proto.String("Release"), InputType: proto.String(".shop.inventory.v1.ReserveResponse"), OutputType: proto.String(".shop.inventory.v1.ReserveResponse")},
		}}},
	}
	if change != nil {
		change(f)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{f}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProtoBreakingChanges(t *testing.T) {
	base := inventoryProto(t, nil)
	cases := []struct {
		name   string
		change func(f *descriptorpb.FileDescriptorProto)
		want   []string
	}{
		{"unchanged", nil, nil},
		{"method added", func(f *descriptorpb.FileDescriptorProto) {
			f.Service[0].Method = append(f.Service[0].Method, &descriptorpb.MethodDescriptorProto{Name: proto.String("Get"),
				InputType: proto.String(".shop.inventory.v1.ReserveResponse"), OutputType: proto.String(".shop.inventory.v1.ReserveResponse")})
		}, nil},
		{"field added", func(f *descriptorpb.FileDescriptorProto) {
			f.MessageType[1].Field = append(f.MessageType[1].Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("note"), Number: proto.Int32(2),
				Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()})
		}, nil},
		{"method removed", func(f *descriptorpb.FileDescriptorProto) { f.Service[0].Method = f.Service[0].Method[:1] },
			[]string{"grpc-method-removed shop.inventory.v1.Inventory/Release"}},
		{"service removed", func(f *descriptorpb.FileDescriptorProto) { f.Service = nil },
			[]string{"grpc-service-removed shop.inventory.v1.Inventory"}},
		{"request type changed", func(f *descriptorpb.FileDescriptorProto) {
			f.Service[0].Method[0].InputType = proto.String(".shop.inventory.v1.ReserveResponse")
		}, []string{"grpc-method-request-changed shop.inventory.v1.Inventory/Reserve"}},
		{"streaming changed", func(f *descriptorpb.FileDescriptorProto) { f.Service[0].Method[0].ServerStreaming = proto.Bool(true) },
			[]string{"grpc-method-streaming-changed shop.inventory.v1.Inventory/Reserve"}},
		{"field removed", func(f *descriptorpb.FileDescriptorProto) { f.MessageType[0].Field = f.MessageType[0].Field[:1] },
			[]string{"proto-field-removed shop.inventory.v1.ReserveRequest.quantity"}},
		{"field number changed", func(f *descriptorpb.FileDescriptorProto) { f.MessageType[0].Field[1].Number = proto.Int32(3) },
			[]string{"proto-field-number-changed shop.inventory.v1.ReserveRequest.quantity"}},
		{"field type changed", func(f *descriptorpb.FileDescriptorProto) {
			f.MessageType[0].Field[1].Type = descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
		}, []string{"proto-field-type-changed shop.inventory.v1.ReserveRequest.quantity"}},
		{"field made repeated", func(f *descriptorpb.FileDescriptorProto) {
			f.MessageType[0].Field[0].Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}, []string{"proto-field-type-changed shop.inventory.v1.ReserveRequest.sku"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := apicheck.Check(catalog.APIKindGRPC, base, inventoryProto(t, tc.change))
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Fatalf("got %v, want %v", ids(got), tc.want)
			}
		})
	}
	if _, err := apicheck.Check(catalog.APIKindGRPC, []byte("not a descriptor set"), base); err == nil || !strings.Contains(err.Error(), "previous definition") {
		t.Fatalf("garbage: got %v, want an error naming the previous definition", err)
	}
}

func TestAsyncAPIRemovedSubjectIsBreaking(t *testing.T) {
	doc := func(channels string) []byte {
		return []byte(`{"asyncapi":"3.0.0","info":{"title":"events","version":"1"},"channels":{` + channels + `}}`)
	}
	v1 := doc(`"created":{"address":"orders.created","messages":{"OrderCreated":{}}},"cancelled":{"address":"orders.cancelled","messages":{"OrderCancelled":{},"Old":{}}}`)
	v2 := doc(`"created":{"address":"orders.created","messages":{"OrderCreated":{},"New":{}}},"cancelled2":{"address":"orders.cancelled","messages":{"OrderCancelled":{}}}`)
	v3 := doc(`"created":{"address":"orders.created","messages":{"OrderCreated":{}}}`)
	got, err := apicheck.Check(catalog.APIKindAsyncAPI, v1, v2)
	if want := []string{"asyncapi-message-removed orders.cancelled"}; err != nil || !slices.Equal(ids(got), want) {
		t.Fatalf("message removed: got %v, %v; want %v", ids(got), err, want)
	}
	got, err = apicheck.Check(catalog.APIKindAsyncAPI, v2, v3)
	if want := []string{"asyncapi-channel-removed orders.cancelled", "asyncapi-message-removed orders.created"}; err != nil || !slices.Equal(ids(got), want) {
		t.Fatalf("subject and message removed: got %v, %v; want %v", ids(got), err, want)
	}
}

func TestDescribe(t *testing.T) {
	o, err := apicheck.Describe(catalog.APIKindOpenAPI, read(t, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range o.Operations {
		ops = append(ops, op.Method+" "+op.Path+" "+op.Summary)
	}
	if o.Title != "inventory" || o.Version != "1.0.0" || len(ops) != 2 || !strings.HasPrefix(ops[0], "GET /items/{sku} ") || !strings.HasPrefix(ops[1], "POST /reservations ") || strings.HasSuffix(ops[1], " ") {
		t.Fatalf("OpenAPI outline: got %q %q %q, want inventory 1.0.0 with GET /items/{sku} and POST /reservations, each with its summary", o.Title, o.Version, ops)
	}
	o, err = apicheck.Describe(catalog.APIKindGRPC, inventoryProto(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Services) != 1 || o.Services[0].Name != "shop.inventory.v1.Inventory" || len(o.Services[0].Methods) != 2 ||
		o.Services[0].Methods[0] != (apicheck.Method{Name: "Reserve", Input: "shop.inventory.v1.ReserveRequest", Output: "shop.inventory.v1.ReserveResponse", Kind: "unary", FullPath: "/shop.inventory.v1.Inventory/Reserve"}) {
		t.Fatalf("proto outline: got %+v", o.Services)
	}
	o, err = apicheck.Describe(catalog.APIKindAsyncAPI, []byte(`{"asyncapi":"3.0.0","info":{"title":"events","version":"1"},
		"channels":{"created":{"address":"orders.created","messages":{"OrderCreated":{}}}},
		"operations":{"publishCreated":{"action":"send","channel":{"$ref":"#/channels/created"}}}}`))
	if err != nil || len(o.Subjects) != 1 || o.Subjects[0].Name != "orders.created" || !slices.Equal(o.Subjects[0].Actions, []string{"send"}) || !slices.Equal(o.Subjects[0].Messages, []string{"OrderCreated"}) {
		t.Fatalf("AsyncAPI outline: got %+v, %v", o.Subjects, err)
	}
}
