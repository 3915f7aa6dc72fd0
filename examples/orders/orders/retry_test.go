package orders_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/orders/orders"
)

// TestRetriedReservationTakesStockOnce puts a proxy between orders and inventory that
// loses inventory's first answer to POST /reservations (the reservation is made, the
// caller gets a 502). Orders' policy retries the POST, since it carries the order id as
// Idempotency-Key, and inventory answers with the same reservation: the order is placed
// and the stock drops once.
func TestRetriedReservationTakesStockOnce(t *testing.T) {
	inv := start(t, inventory.Info(), inventory.Setup, map[string]string{"INVENTORY_SEED": "sku-1=10"})
	target, _ := url.Parse(inv.url("/"))

	var mu sync.Mutex
	var keys []string // Idempotency-Key of each POST /reservations, in order
	lossy := httputil.NewSingleHostReverseProxy(target)
	lossy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != "POST" {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, resp.Request.Header.Get("Idempotency-Key"))
		if len(keys) == 1 {
			return errors.New("answer lost on purpose")
		}
		return nil
	}
	lossy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(http.StatusBadGateway) }
	proxy := httptest.NewServer(lossy)
	defer proxy.Close()

	ord := start(t, orders.Info(), orders.Setup, ordersEnv(strings.TrimPrefix(proxy.URL, "http://")))
	resp, b := call(t, "POST", ord.url("/orders"), `{"sku":"sku-1","quantity":4}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /orders: got %d, want 201 after a retry: %s", resp.StatusCode, b)
	}
	o := decode[placed](t, b)
	mu.Lock()
	got := append([]string(nil), keys...)
	mu.Unlock()
	if len(got) != 2 || got[0] != o.ID || got[1] != o.ID {
		t.Errorf("Idempotency-Key of the reservations: got %q, want the order id %q twice", got, o.ID)
	}
	_, b = call(t, "GET", inv.url("/items/sku-1"), "")
	if n := decode[inventory.Item](t, b).Available; n != 6 {
		t.Errorf("sku-1 available: got %d, want 6 (4 taken once)", n)
	}
}

// TestConfigErrorsNameTheVariable: an invalid policy setting is a configuration error
// naming the INVENTORY_ variables, not a panic or a half-built service.
func TestConfigErrorsNameTheVariable(t *testing.T) {
	_, err := loadOrders(map[string]string{"INVENTORY_RETRY_MULTIPLIER": "0.5", "INVENTORY_BREAKER_OPEN_TIMEOUT": "soon"})
	if err == nil {
		t.Fatal("got nil, want a configuration error")
	}
	for _, want := range []string{"INVENTORY_BREAKER_OPEN_TIMEOUT=\"soon\"", "INVENTORY_RETRY_MULTIPLIER: ", ">= 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %q, want it to name %s", err, want)
		}
	}
}
