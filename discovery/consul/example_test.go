package consul_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/consul"
	"github.com/paved-road/paved/discovery/consul/internal/fakeconsul"
)

// Registering with a Consul agent and discovering through it. The agent here is the
// FAKE from fakeconsul; with a real agent only the address changes.
func Example() {
	fake := fakeconsul.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer fake.Close()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = srv.Listener.Addr().String() // a real agent: 127.0.0.1:8500
	defer cfg.Transport.CloseIdleConnections()
	client, _ := api.NewClient(cfg)

	reg, _ := consul.NewRegistrar(client)
	inventory, _ := consul.NewInstancer(client, "inventory")
	defer inventory.Stop()
	events, cancel := inventory.Subscribe()
	defer cancel()
	<-events // the first, empty, set

	inst := discovery.Instance{
		ID: "inventory-1", Service: "inventory", Version: "1.4.2",
		Addresses: discovery.Addresses{HTTP: "127.0.0.1:8081"}, Status: discovery.StatusPassing,
		TTL: 30 * time.Second,
	}
	ctx := context.Background()
	if err := reg.Register(ctx, inst); err != nil {
		fmt.Println(err)
		return
	}
	e := <-events
	fmt.Println("service id:", consul.ServiceID(inst), "check:", consul.CheckID(inst))
	fmt.Println("discovered:", e.Instances[0].ID, e.Instances[0].Addresses.HTTP, e.Instances[0].Status)

	inst.Status = discovery.StatusCritical // readiness failed: the check turns critical
	if err := reg.Heartbeat(ctx, inst); err != nil {
		fmt.Println(err)
	}
	fmt.Println("ready instances:", len((<-events).Instances))
	// Output:
	// service id: inventory-inventory-1 check: service:inventory-inventory-1
	// discovered: inventory-1 127.0.0.1:8081 passing
	// ready instances: 0
}
