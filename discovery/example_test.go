package discovery_test

import (
	"context"
	"fmt"
	"time"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
)

// An Agent keeps an instance registered; an instancer on the same registry sees it and
// loses it at Deregister.
func ExampleAgent() {
	registry := &static.Registry{} // an in-memory registry; etcd and consul work alike
	inventory := registry.Instancer("inventory")
	defer inventory.Stop()
	events, cancel := inventory.Subscribe()
	defer cancel()
	fmt.Println("before:", len((<-events).Instances), "instances")

	agent, err := discovery.NewAgent(registry, discovery.Instance{
		ID:        "inventory-7f9c",
		Service:   "inventory",
		Version:   "1.4.2",
		Addresses: discovery.Addresses{HTTP: "10.0.0.7:8080", Admin: "10.0.0.7:9090"},
	}, discovery.WithTTL(30*time.Second), discovery.WithReadiness(func() discovery.Status {
		return discovery.StatusPassing // the service's readiness checks, in practice
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go agent.Run(ctx)

	e := <-events
	fmt.Println("registered:", e.Instances[0].ID, e.Instances[0].Addresses.HTTP, e.Instances[0].Status)
	if err := agent.Deregister(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("after deregister:", len((<-events).Instances), "instances, state", agent.State())
	// Output:
	// before: 0 instances
	// registered: inventory-7f9c 10.0.0.7:8080 passing
	// after deregister: 0 instances, state deregistered
}

// Backends feed a Cache with every instance they know; clients see only the ready ones.
func ExampleCache() {
	cache := discovery.NewCache(discovery.AllowWarning(true))
	cache.Update([]discovery.Instance{
		{ID: "a", Service: "orders", Version: "1", Addresses: discovery.Addresses{HTTP: "10.0.0.1:8080"}, Status: discovery.StatusPassing},
		{ID: "b", Service: "orders", Version: "1", Addresses: discovery.Addresses{HTTP: "10.0.0.2:8080"}, Status: discovery.StatusWarning},
		{ID: "c", Service: "orders", Version: "1", Addresses: discovery.Addresses{HTTP: "10.0.0.3:8080"}, Status: discovery.StatusCritical},
	}, nil)
	ready, err := cache.Instances()
	for _, in := range ready {
		fmt.Println(in.ID, in.Addresses.HTTP, in.Status)
	}
	fmt.Println("error:", err)
	// Output:
	// a 10.0.0.1:8080 passing
	// b 10.0.0.2:8080 warning
	// error: <nil>
}

func ExampleInstance_Validate() {
	err := discovery.Instance{ID: "orders-1", Service: "Orders", Version: "1.0", Addresses: discovery.Addresses{HTTP: "0.0.0.0:8080"}, Status: discovery.StatusPassing}.Validate()
	fmt.Println(err)
	// Output:
	// discovery: invalid instance: service must be a DNS label, 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit, got "Orders"; addresses.http host must be a reachable address, not the unspecified address (0.0.0.0 or ::), got "0.0.0.0:8080"
}

// The address to register for a server listening on all interfaces.
func ExampleAdvertiseAddr() {
	addr, err := discovery.AdvertiseAddr(":8080", "10.0.0.7") // host from POD_IP, say
	fmt.Println(addr, err)
	addr, err = discovery.AdvertiseAddr("10.0.0.8:9090", "10.0.0.7")
	fmt.Println(addr, err)
	// Output:
	// 10.0.0.7:8080 <nil>
	// 10.0.0.8:9090 <nil>
}
