package integration_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/discovery"
)

// A service registers through the catalog's registrar; a client of it watches its
// instances; a heartbeat after deregistration is refused as unknown.
func ExampleClient_Registrar() {
	st := memory.New(memory.Options{})
	defer st.Close()
	ts := httptest.NewServer(server.New(st, server.Options{Open: true})) // development only
	defer ts.Close()

	c, err := client.New(ts.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	reg := c.Registrar(catalog.Component{Name: "orders", Owner: "team-a", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction}, nil)
	inst := discovery.Instance{ID: "orders-1", Service: "orders", Version: "1.0.0", Status: discovery.StatusPassing,
		Addresses: discovery.Addresses{HTTP: "127.0.0.1:8080"}, TTL: 30 * time.Second}

	watch := c.Instancer("orders")
	defer watch.Stop()
	ctx := context.Background()
	if err := reg.Register(ctx, inst); err != nil {
		fmt.Println(err)
		return
	}
	for range 200 { // the long poll delivers the change; bounded wait
		if ins, _ := watch.Instances(); len(ins) == 1 {
			fmt.Println("watching:", ins[0].ID, ins[0].Addresses.HTTP)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("heartbeat:", reg.Heartbeat(ctx, inst))
	if err := reg.Deregister(ctx, inst); err != nil {
		fmt.Println(err)
		return
	}
	err = reg.Heartbeat(ctx, inst)
	fmt.Println("heartbeat after deregistration is unknown:", errors.Is(err, discovery.ErrUnknownInstance))
	// Output:
	// watching: orders-1 127.0.0.1:8080
	// heartbeat: <nil>
	// heartbeat after deregistration is unknown: true
}
