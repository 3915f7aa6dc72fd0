package etcd_test

import (
	"fmt"

	"github.com/paved-road/paved/discovery/etcd"
)

// The key an instance is stored under.
func ExampleKey() {
	fmt.Println(etcd.Key(etcd.DefaultPrefix, "inventory", "inventory-7f9c"))
	// Output:
	// /paved/services/inventory/inventory-7f9c
}

// Wiring for REGISTRY=etcd: one client, a registrar for this service's agent and an
// instancer per dependency. NewClient does not connect eagerly, so it works while etcd is
// down.
func ExampleNewRegistrar() {
	client, err := etcd.NewClient([]string{"http://127.0.0.1:2379"}) // from ETCD_ENDPOINTS
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	reg, err := etcd.NewRegistrar(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()
	// A dependency's instances: etcd.NewInstancer(client, "inventory"), then go-kit's
	// sd.NewEndpointer on it, or its Instances and Subscribe.
	fmt.Println("ready")
	// Output:
	// ready
}
