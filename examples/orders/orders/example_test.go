package orders_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/orders/orders"
	"github.com/paved-road/paved/service"
)

// Setup wires orders into a service; here with inventory beside it in the same
// process, on free loopback ports, orders finding inventory through DISCOVERY_STATIC.
func ExampleSetup() {
	run := func(s *service.Service) (stop func() error) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		<-s.Ready()
		return func() error { cancel(); return <-done }
	}
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s", "INVENTORY_SEED": "sku-1=10"}

	icfg := must(service.Load[inventory.Config](service.WithEnviron(env)))
	inv := must(service.New(inventory.Info(), &icfg.Config, service.WithConfig(&icfg), service.WithLogOutput(io.Discard)))
	if err := inventory.Setup(inv, &icfg); err != nil {
		panic(err)
	}
	stopInventory := run(inv)

	// orders' own environment: INVENTORY_* there is its policy for calling inventory,
	// and a variable under that prefix that is no setting (INVENTORY_SEED) is refused.
	env = map[string]string{"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"DISCOVERY_STATIC": "inventory=" + inv.HTTPAddr().String()}
	ocfg := must(service.Load[orders.Config](service.WithEnviron(env)))
	ord := must(service.New(orders.Info(), &ocfg.Config, service.WithConfig(&ocfg), service.WithLogOutput(io.Discard)))
	if err := orders.Setup(ord, &ocfg); err != nil {
		panic(err)
	}
	stopOrders := run(ord)

	resp := must(http.Post("http://"+ord.HTTPAddr().String()+"/orders", "application/json",
		strings.NewReader(`{"sku":"sku-1","quantity":2}`)))
	var o orders.Order
	_ = decodeJSON(resp.Body, &o)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, o.SKU, o.Quantity, o.Status, o.ReservationID)

	resp = must(http.Post("http://"+ord.HTTPAddr().String()+"/orders", "application/json",
		strings.NewReader(`{"sku":"sku-1","quantity":20}`)))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), strings.Contains(string(body), "insufficient stock"))

	fmt.Println(stopOrders(), stopInventory())
	http.DefaultClient.CloseIdleConnections()
	// Output:
	// 201 sku-1 2 confirmed res-000001
	// 409 application/problem+json true
	// <nil> <nil>
}
