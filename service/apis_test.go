package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/grpctransport/grpcreflection"
	"github.com/paved-road/paved/transport/httptransport"
)

// inventoryOpenAPI documents GET /items/{sku} and POST /reservations.
const inventoryOpenAPI = `{
  "openapi": "3.1.0",
  "info": {"title": "inventory", "version": "1.4.0"},
  "paths": {
    "/items/{sku}": {"get": {"summary": "One item", "responses": {"200": {"description": "the item"}}}},
    "/reservations": {"post": {"summary": "Reserve", "responses": {"201": {"description": "reserved"}}}}
  }
}`

// newAPIService builds a service on loopback that publishes inventoryOpenAPI.
func newAPIService(t *testing.T, env map[string]string, info service.Info, opts ...service.Option) *service.Service {
	t.Helper()
	base := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "5s"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := service.Load[service.Config](service.WithEnviron(base))
	if err != nil {
		t.Fatal(err)
	}
	if info.Name == "" {
		info.Name = "inventory"
	}
	s, err := service.New(info, &cfg, append([]service.Option{service.WithLogOutput(io.Discard)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs s until the test ends.
func run(t *testing.T, s *service.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
}

var openAPIInfo = service.Info{APIs: []service.API{{Name: "inventory-http-v1", Kind: service.APIKindOpenAPI, Definition: []byte(inventoryOpenAPI)}}}

// The admin port lists the published APIs at /apis and serves each definition at
// /apis/{name} with its media type and its digest as the ETag; an unknown name is a
// problem+json 404.
func TestAdminServesAPIs(t *testing.T) {
	s := newAPIService(t, nil, openAPIInfo)
	run(t, s)
	admin := "http://" + s.AdminAddr().String()

	resp, err := http.Get(admin + "/apis")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ APIs []catalog.API }
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	want := catalog.API{Name: "inventory-http-v1", Kind: "openapi", MediaType: "application/vnd.oai.openapi+json",
		Version: "1.4.0", Digest: catalog.Digest([]byte(inventoryOpenAPI)), Size: len(inventoryOpenAPI)}
	if err != nil || len(list.APIs) != 1 || list.APIs[0] != want {
		t.Fatalf("GET /apis: got %+v (%v), want [%+v]", list, err, want)
	}

	resp, err = http.Get(admin + "/apis/inventory-http-v1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != inventoryOpenAPI || resp.Header.Get("Content-Type") != "application/vnd.oai.openapi+json" ||
		resp.Header.Get("ETag") != `"`+want.Digest+`"` {
		t.Fatalf("GET /apis/inventory-http-v1: got %d %q ETag %q, want 200 the document", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"))
	}

	req, _ := http.NewRequest("GET", admin+"/apis/inventory-http-v1", nil)
	req.Header.Set("If-None-Match", `"`+want.Digest+`"`)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET with If-None-Match: got %d, want 304", resp.StatusCode)
	}

	resp, err = http.Get(admin + "/apis/orders-http-v1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), `no API named \"orders-http-v1\"`) {
		t.Errorf("unknown API: got %d %s %s, want a 404 problem", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

// A route served but missing from the OpenAPI document fails routes-documented, naming
// the route; documented routes pass it.
func TestRouteMissingFromOpenAPIWarns(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) {}
	s := newAPIService(t, nil, openAPIInfo)
	s.HandleFunc("GET /items/{id}", ok)
	s.HandleFunc("POST /reservations", ok)
	rep := compliance.Evaluate(s.Facts(), compliance.DefaultRuleSet())
	if r, _ := rep.Result("routes-documented"); r.Status != compliance.StatusPass {
		t.Errorf("documented routes: got %s (%s), want pass", r.Status, r.Message)
	}
	s.HandleFunc("DELETE /reservations/{id}", ok)
	rep = compliance.Evaluate(s.Facts(), compliance.DefaultRuleSet())
	r, _ := rep.Result("routes-documented")
	if r.Status != compliance.StatusFail || r.Level != compliance.Recommended || !strings.Contains(r.Message, "DELETE /reservations/{id}") {
		t.Errorf("undocumented route: got %s %s (%s), want a recommended failure naming it", r.Status, r.Level, r.Message)
	}
	_ = s.Close(context.Background())
}

// An invalid document, a bad name, a duplicate and a YAML file are refused at New, each
// problem naming its field.
func TestInvalidAPIsRefusedAtNew(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	info := service.Info{Name: "inventory", APIs: []service.API{
		{Name: "a", Kind: service.APIKindOpenAPI, Definition: []byte(`{"openapi":"2.0","info":{"title":"x"},"paths":{"items":{"gett":{}}}}`)},
		{Name: "b", Kind: service.APIKindOpenAPI, Definition: []byte("openapi: 3.1.0\n")},
		{Name: "bad name", Kind: "soap", Definition: []byte("x")},
		{Name: "a", Kind: service.APIKindGRPC, Definition: []byte("x")},
		{Name: "c", Kind: service.APIKindGRPC},
	}, ConsumesAPIs: []string{"inventory http"}}
	_, err = service.New(info, &cfg, service.WithLogOutput(io.Discard))
	var ce *service.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *service.ConfigError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`Info.APIs[0].Definition`, `openapi: must be a version 3`, `info.version: is required`, `paths["items"]: must start with '/'`,
		`Info.APIs[1].Definition`, `in JSON`,
		`Info.APIs[2].Name`, `Info.APIs[2].Kind`,
		`Info.APIs[3].Name`, `duplicate of Info.APIs[0]`,
		`Info.APIs[4].Definition`, `is required`,
		`Info.ConsumesAPIs[0]`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("got %s\nwant it to contain %s", msg, want)
		}
	}
}

// A gRPC service registered on s.GRPC() with reflection linked is listed by a
// reflection client (as grpcurl lists it) and published as an API of kind grpc.
func TestGRPCServicePublished(t *testing.T) {
	s := newAPIService(t, map[string]string{"GRPC_ADDR": "127.0.0.1:0"}, service.Info{Name: "echo"}, service.WithGRPCReflection(grpcreflection.New()))
	g, err := s.GRPC()
	if err != nil {
		t.Fatal(err)
	}
	testgrpc.RegisterTestServiceServer(g, testgrpc.UnimplementedTestServiceServer{})
	run(t, s)

	conn, err := grpc.NewClient(s.Instance().Addresses.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	_ = stream.CloseSend()
	var names []string
	for _, sv := range resp.GetListServicesResponse().GetService() {
		names = append(names, sv.GetName())
	}
	if !slices.Contains(names, "grpc.testing.TestService") {
		t.Fatalf("reflection lists %v, want grpc.testing.TestService", names)
	}

	apis := s.APIs()
	if len(apis) != 1 || apis[0].Name != "grpc.testing.TestService" || apis[0].Kind != catalog.APIKindGRPC ||
		apis[0].MediaType != catalog.MediaTypeFileDescriptorSet || apis[0].Size == 0 {
		t.Fatalf("published: got %+v, want grpc.testing.TestService of kind grpc", apis)
	}
	code, body := get(t, "http://"+s.AdminAddr().String()+"/apis/grpc.testing.TestService")
	if code != 200 || catalog.Digest([]byte(body)) != apis[0].Digest {
		t.Errorf("GET /apis/grpc.testing.TestService: got %d and a body of digest %s, want 200 and %s", code, catalog.Digest([]byte(body)), apis[0].Digest)
	}
}

// Without WithGRPCReflection, s.GRPC() serves no reflection and publishes nothing.
func TestGRPCWithoutReflectionPublishesNothing(t *testing.T) {
	s := newAPIService(t, map[string]string{"GRPC_ADDR": "127.0.0.1:0"}, service.Info{Name: "echo"})
	g, err := s.GRPC()
	if err != nil {
		t.Fatal(err)
	}
	testgrpc.RegisterTestServiceServer(g, testgrpc.UnimplementedTestServiceServer{})
	run(t, s)
	if apis := s.APIs(); len(apis) != 0 {
		t.Errorf("got %+v, want no API", apis)
	}
}

// /info shows the APIs consumed: declared in Info.ConsumesAPIs, observed from the
// clients built with s.Client (the dependency, and the API the client names).
func TestInfoShowsConsumedAPIs(t *testing.T) {
	info := service.Info{Name: "orders", ConsumesAPIs: []string{"inventory-http-v1", "billing-http-v2"}}
	s := newAPIService(t, map[string]string{"DISCOVERY_STATIC": "inventory=127.0.0.1:1;payments=127.0.0.1:2"}, info)
	if _, err := s.Client("inventory", resilience.PolicyConfig{}, httptransport.WithAPI("inventory-http-v1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client("payments", resilience.PolicyConfig{}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	_, body := get(t, "http://"+s.AdminAddr().String()+"/info")
	var doc struct {
		ConsumesAPIs []string `json:"consumesApis"`
		Extra        struct {
			Consumes []catalog.APIUse `json:"consumes"`
		} `json:"extra"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := []catalog.APIUse{
		{API: "inventory-http-v1", Provider: "inventory", Declared: true, Observed: true},
		{Provider: "payments", Observed: true},
		{API: "billing-http-v2", Declared: true},
	}
	if !slices.Equal(doc.Extra.Consumes, want) || !slices.Equal(doc.ConsumesAPIs, info.ConsumesAPIs) {
		t.Errorf("got consumesApis %v and consumes %+v, want %v and %+v", doc.ConsumesAPIs, doc.Extra.Consumes, info.ConsumesAPIs, want)
	}
}

// PublishAPI adds an API known only once set up (an AsyncAPI document of the subjects a
// messaging transport registered); a second API of the same name, or one after Run, is
// refused.
func TestPublishAPI(t *testing.T) {
	s := newAPIService(t, nil, openAPIInfo)
	events := service.API{Name: "inventory-events-v1", Kind: service.APIKindAsyncAPI,
		Definition: []byte(`{"asyncapi":"3.0.0","info":{"title":"inventory events","version":"1.0.0"},"channels":{"reserved":{"address":"inventory.reserved"}}}`)}
	if err := s.PublishAPI(events); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishAPI(events); err == nil || !strings.Contains(err.Error(), "published twice") {
		t.Errorf("second PublishAPI: got %v, want published twice", err)
	}
	if err := s.PublishAPI(service.API{Name: "x", Kind: service.APIKindAsyncAPI, Definition: []byte(`{"info":{}}`)}); err == nil || !strings.Contains(err.Error(), "asyncapi: must be a version 3") {
		t.Errorf("invalid document: got %v, want asyncapi refused", err)
	}
	run(t, s)
	if err := s.PublishAPI(service.API{Name: "late", Kind: service.APIKindGRPC, Definition: []byte("x")}); err == nil {
		t.Error("PublishAPI after Run: got nil, want an error")
	}
	var names []string
	for _, a := range s.APIs() {
		names = append(names, a.Name+" "+string(a.Kind)+" "+a.Version)
	}
	if want := []string{"inventory-http-v1 openapi 1.4.0", "inventory-events-v1 asyncapi 1.0.0"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}

// UseAPI records an API consumed from no known provider (an event API a messaging
// consumer reads): /info shows it observed, declared too when Info says so, once
// however often it is recorded; an invalid name is refused.
func TestUseAPI(t *testing.T) {
	info := service.Info{Name: "notifier", ConsumesAPIs: []string{"orders.placed"}}
	s := newAPIService(t, nil, info)
	for _, n := range []string{"orders.placed", "orders.cancelled", "orders.placed"} {
		if err := s.UseAPI(n); err != nil {
			t.Fatal(err)
		}
	}
	var ce *service.ConfigError
	if err := s.UseAPI("orders.>"); !errors.As(err, &ce) || !strings.Contains(err.Error(), `"orders.>"`) {
		t.Errorf(`UseAPI("orders.>"): got %v, want a ConfigError naming the value`, err)
	}
	run(t, s)
	_, body := get(t, "http://"+s.AdminAddr().String()+"/info")
	var doc struct {
		Extra struct {
			Consumes []catalog.APIUse `json:"consumes"`
		} `json:"extra"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := []catalog.APIUse{
		{API: "orders.placed", Declared: true, Observed: true},
		{API: "orders.cancelled", Observed: true},
	}
	if !slices.Equal(doc.Extra.Consumes, want) {
		t.Errorf("got consumes %+v, want %+v", doc.Extra.Consumes, want)
	}
}
