package inventory_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/service"
)

// Setup wires inventory into a service: this is what `go run ./examples/inventory`
// runs, here on free loopback ports.
func ExampleSetup() {
	cfg, err := service.Load[inventory.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"INVENTORY_SEED": "sku-1=10",
	}))
	if err != nil {
		panic(err)
	}
	s, err := service.New(inventory.Info(), &cfg.Config, service.WithConfig(&cfg), service.WithLogOutput(io.Discard))
	if err != nil {
		panic(err)
	}
	if err := inventory.Setup(s, &cfg); err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()

	base := "http://" + s.HTTPAddr().String()
	resp, _ := http.Post(base+"/reservations", "application/json",
		strings.NewReader(`{"orderId":"o-1","sku":"sku-1","quantity":3}`))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))
	resp, _ = http.Get(base + "/items/sku-1")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))

	stop()
	fmt.Println(<-done)
	http.DefaultClient.CloseIdleConnections()
	// Output:
	// 201 {"reservationId":"res-000001","sku":"sku-1","quantity":3}
	// 200 {"sku":"sku-1","available":7}
	// <nil>
}

// ParseSeed reads INVENTORY_SEED.
func ExampleParseSeed() {
	stock, err := inventory.ParseSeed("sku-1=10, sku-2=5")
	fmt.Println(inventory.FormatSeed(stock), err)
	_, err = inventory.ParseSeed("sku-1=ten")
	fmt.Println(err)
	// Output:
	// sku-1=10,sku-2=5 <nil>
	// item "sku-1=ten": quantity must be a whole number from 0 to 1000000
}
