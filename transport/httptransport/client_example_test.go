package httptransport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/httptransport"
)

// A client for the dependency "inventory" finds its instances through an instancer
// (static here; etcd, Consul or the catalog in production), calls them under a
// resilience policy and records the dependency for the catalog and compliance.
func ExampleNewClient() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s request id %s", r.Method, r.URL.Path, r.Header.Get("X-Request-ID"))
	}))
	defer srv.Close()
	instances := static.NewInstancer([]discovery.Instance{{
		ID: "inventory-1", Service: "inventory", Version: "1.4.2", Status: discovery.StatusPassing,
		Addresses: discovery.Addresses{HTTP: srv.Listener.Addr().String()},
	}})
	defer instances.Stop()
	policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{})
	if err != nil {
		panic(err)
	}
	var deps httptransport.Dependencies
	client, err := httptransport.NewClient("inventory",
		httptransport.WithInstancer(instances),
		httptransport.WithPolicy(policy),
		httptransport.WithAPI("inventory-http-v1"), // the API of inventory it calls
		httptransport.WithRecorder(deps.Record))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	ctx := httptransport.WithRequestID(context.Background(), "req-7")
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://inventory/items/42", nil)
	resp, err := client.HTTP().Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	fmt.Printf("%+v\n", deps.List())
	// Output:
	// GET /items/42 request id req-7
	// [{Name:inventory Protocol:http Paved:true Breaker:true Timeout:true Discovery:true Balance:round_robin APIs:[inventory-http-v1]}]
}
