package integration_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/httptransport"
)

// TestRegistrationCarriesAPIs: the component a service registers in a real catalog
// describes the APIs it publishes (kind, media type, version, digest, size) and what it
// consumes, declared and observed. The definition itself stays on the admin port, so a
// document larger than the catalog's 64 KiB body limit registers all the same, and the
// digest the catalog holds is the one of the bytes /apis/{name} serves.
func TestRegistrationCarriesAPIs(t *testing.T) {
	const token = "team-a-token-0123456789"
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + token))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	defer st.Close()
	cat := httptest.NewServer(server.New(st, server.Options{Tokens: tokens, Development: true}))
	defer cat.Close()

	// 200 KiB of description: more than a registration body may be.
	doc := `{"openapi":"3.1.0","info":{"title":"orders","version":"2.0.0","description":"` + strings.Repeat("x", 200<<10) +
		`"},"paths":{"/orders":{"post":{"responses":{"201":{"description":"created"}}}}}}`
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"CATALOG_URL": cat.URL, "CATALOG_TOKEN": token, "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	info := compliantInfo
	info.Name, info.Owner = "orders", "team-a"
	info.DependsOn = []string{"inventory"}
	info.ProvidesAPIs = []string{"orders-legacy-v0"} // declared without a contract
	info.APIs = []service.API{{Name: "orders-http-v2", Kind: service.APIKindOpenAPI, Definition: []byte(doc)}}
	info.ConsumesAPIs = []string{"inventory-http-v1"}
	s, err := service.New(info, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client("inventory", resilience.PolicyConfig{}, httptransport.WithAPI("inventory-http-v1")); err != nil {
		t.Fatal(err)
	}
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

	var comp catalog.Component
	for deadline := time.Now().Add(10 * time.Second); ; {
		comp, err = st.GetComponent(context.Background(), "orders")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("component not registered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := catalog.API{Name: "orders-http-v2", Kind: catalog.APIKindOpenAPI, MediaType: catalog.MediaTypeOpenAPI,
		Version: "2.0.0", Digest: catalog.Digest([]byte(doc)), Size: len(doc)}
	if len(comp.APIs) != 1 || comp.APIs[0] != want {
		t.Errorf("apis: got %+v, want [%+v]", comp.APIs, want)
	}
	if !slices.Equal(comp.ProvidesAPIs, []string{"orders-legacy-v0", "orders-http-v2"}) {
		t.Errorf("providesApis: got %v, want the declared name and the published one", comp.ProvidesAPIs)
	}
	uses := []catalog.APIUse{{API: "inventory-http-v1", Provider: "inventory", Declared: true, Observed: true}}
	if !slices.Equal(comp.ConsumesAPIs, []string{"inventory-http-v1"}) || !slices.Equal(comp.Uses, uses) {
		t.Errorf("consumes: got %v and %+v, want [inventory-http-v1] and %+v", comp.ConsumesAPIs, comp.Uses, uses)
	}

	code, body := getBody(t, "http://"+s.AdminAddr().String()+"/apis/orders-http-v2")
	if code != 200 || catalog.Digest([]byte(body)) != comp.APIs[0].Digest {
		t.Errorf("GET /apis/orders-http-v2: got %d with digest %s, want 200 with the catalog's %s", code, catalog.Digest([]byte(body)), comp.APIs[0].Digest)
	}
}

// getBody GETs url and returns the status and the body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
