package integration_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/server/ui"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/grpctransport/grpcreflection"
)

type interopService struct {
	testgrpc.UnimplementedTestServiceServer
}

// TestGRPCDescriptorStoredAndShown: a service with reflection and a registered gRPC
// service publishes the service's FileDescriptorSet; the catalog fetches it from the
// admin address, stores it, and its API page lists the service's methods.
func TestGRPCDescriptorStoredAndShown(t *testing.T) {
	const token = "team-a-token-0123456789"
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + token))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	defer st.Close()
	srv := server.New(st, server.Options{Tokens: tokens, Development: true})
	runCtx, stopRun := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = srv.Run(runCtx) }()
	defer func() { stopRun(); <-ran }()
	cat := httptest.NewServer(srv)
	defer cat.Close()

	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "GRPC_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"CATALOG_URL": cat.URL, "CATALOG_TOKEN": token, "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	info := compliantInfo
	info.Name, info.Owner = "interop", "team-a"
	s, err := service.New(info, &cfg, service.WithLogOutput(io.Discard), service.WithGRPCReflection(grpcreflection.New()))
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.GRPC()
	if err != nil {
		t.Fatal(err)
	}
	testgrpc.RegisterTestServiceServer(g, &interopService{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	<-s.Ready()

	const api = "grpc.testing.TestService"
	var vs []catalog.APIVersion
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if vs, err = st.APIVersions(context.Background(), api); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gRPC API was not stored: %v", err)
		}
	}
	if len(vs) != 1 || vs[0].Kind != catalog.APIKindGRPC || vs[0].Provider != "interop" || vs[0].MediaType != catalog.MediaTypeFileDescriptorSet {
		t.Fatalf("got %+v, want one grpc version from interop", vs)
	}
	h, err := ui.New(srv.Store(), ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pages := httptest.NewServer(h)
	defer pages.Close()
	code, page := getBody(t, pages.URL+"/apis/"+api)
	for _, want := range []string{"UnaryCall", "grpc.testing.SimpleRequest", "grpc.testing.SimpleResponse", "StreamingOutputCall", "server streaming", `href="/components/interop"`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("the API page (%d) lacks %q", code, want)
		}
	}
}
