package orders_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/orders/orders"
)

// BenchmarkPlaceOrder measures POST /orders end to end on loopback: orders' server
// stack, its endpoint, the inventory client (discovery, policy, tracing off, metrics),
// inventory's server stack and store, and back. Run in parallel over keep-alive
// connections.
func BenchmarkPlaceOrder(b *testing.B) {
	inv := start(b, inventory.Info(), inventory.Setup, map[string]string{"INVENTORY_SEED": "sku-1=1000000"})
	ord := start(b, orders.Info(), orders.Setup, ordersEnv(hostPort(inv)))
	url := ord.url("/orders")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", strings.NewReader(`{"sku":"sku-1","quantity":1}`))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status: got %d, want 201", resp.StatusCode)
				return
			}
		}
	})
}
