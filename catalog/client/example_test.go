package client_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/discovery"
)

// A catalog client is built from the catalog's base URL and the team's token; a URL that
// is not absolute http(s) is refused at once.
func ExampleNew() {
	c, err := client.New("http://catalog.internal:8080", client.WithToken("team-a-token"))
	fmt.Println(c != nil, err)
	_, err = client.New("catalog.internal:8080")
	fmt.Println(err)
	// Output:
	// true <nil>
	// catalog client: base URL must be an absolute http or https URL such as http://catalog:8080, got "catalog.internal:8080"
}

// A service registers through the client's registrar (a discovery.Registrar); when the
// catalog cannot be reached the error names the call that failed, so the service's log
// points at the catalog. The whole flow against a real catalog server runs in the
// integration module's tests (the server is a module of its own).
func ExampleClient_Registrar() {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close() // nothing listens here now

	c, _ := client.New("http://"+addr, client.WithToken("team-a-token"))
	defer c.Close()
	reg := c.Registrar(catalog.Component{Name: "orders", Owner: "team-a", Type: "service", Tier: 2,
		Lifecycle: catalog.LifecycleProduction}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := reg.Register(ctx, discovery.Instance{ID: "orders-1", Service: "orders", Version: "1.0.0",
		Status: discovery.StatusPassing, Addresses: discovery.Addresses{HTTP: "10.0.0.7:8080"}, TTL: 30 * time.Second})
	fmt.Println(strings.Contains(err.Error(), "catalog: PUT /api/v1/components/orders"))
	// Output:
	// true
}
