package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goIn runs the go command in dir, outside any workspace, failing the test on error.
func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b)
}

// fakeInventory is a fake of the inventory service's POST /reservations (the real one
// is examples/inventory): it reserves anything and answers 201 with a reservation.
func fakeInventory(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			OrderID  string `json:"orderId"`
			SKU      string `json:"sku"`
			Quantity int    `json:"quantity"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/reservations" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"reservationId": "res-" + req.OrderID, "sku": req.SKU, "quantity": req.Quantity})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNewOrdersServiceBuildsTestsAndChecks: a service made by paved new --template
// orders tidies, vets, builds, passes its own tests, runs against an inventory found
// by DISCOVERY_STATIC, takes an order, and passes paved check.
func TestNewOrdersServiceBuildsTestsAndChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a whole new module")
	}
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "shop-orders")
	code, out, errOut := paved(t, "", "new", "example.com/acme/shop-orders", "--template", "orders", "--owner", "team-shop", "--dir", dir, "--paved-replace", root)
	if code != 0 {
		t.Fatalf("paved new: exit %d, want 0\n%s%s", code, out, errOut)
	}
	goIn(t, dir, "mod", "tidy")
	goIn(t, dir, "vet", "./...")
	goIn(t, dir, "build", "-o", filepath.Join(dir, "shop-orders.bin"), ".")
	testOut := goIn(t, dir, "test", "-count=1", "-v", "./...")
	for _, name := range []string{"TestServiceOrders", "TestServiceInventoryDown", "TestServiceConfigAndPlatform", "TestStore", "ExampleConfig"} {
		if !strings.Contains(testOut, "--- PASS: "+name+" ") {
			t.Errorf("go test: got\n%s\nwant %s to pass", testOut, name)
		}
	}
	inv := fakeInventory(t)
	admin, public := startService(t, filepath.Join(dir, "shop-orders.bin"), "DISCOVERY_STATIC=inventory="+strings.TrimPrefix(inv.URL, "http://"))
	c := &http.Client{Timeout: 20 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Post("http://"+public+"/orders", "application/json", strings.NewReader(`{"sku":"sku-1","quantity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var order struct{ ID, Status, ReservationID string }
	if err := json.Unmarshal(body, &order); err != nil || resp.StatusCode != http.StatusCreated || order.Status != "confirmed" || order.ReservationID != "res-"+order.ID {
		t.Errorf("POST /orders: got %d %s, want 201 a confirmed order reserved in inventory", resp.StatusCode, body)
	}
	code, out, errOut = paved(t, "", "check", "http://"+admin)
	if code != 0 || !strings.Contains(out, "service shop-orders") {
		t.Errorf("paved check of the new service: got exit %d, want 0 for shop-orders\n%s%s", code, out, errOut)
	}
	desc, _ := os.ReadFile(filepath.Join(dir, "catalog-info.yaml"))
	if !strings.Contains(string(desc), `name: "shop-orders"`) || !strings.Contains(string(desc), `owner: "group:team-shop"`) {
		t.Errorf("catalog-info.yaml: got\n%s\nwant shop-orders owned by team-shop", desc)
	}
}

// TestOrdersTemplateMatchesExample: the orders template's service code is
// examples/orders/orders, file for file, outside the identity and metadata (info.go)
// and the package comment (doc.go); a change to the example must reach the template.
func TestOrdersTemplateMatchesExample(t *testing.T) {
	// Of the tests, only store_test.go: the others need the real inventory, and the
	// template's own run against a fake.
	drift{template: "orders", module: "github.com/paved-road/paved/examples/orders", owner: "team-checkout",
		pkg: "orders", example: "orders/orders", tests: []string{"store_test.go"},
		atLeast: 7, which: "config, endpoints, inventory, setup, store, transport, store_test"}.check(t)
}
