package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// binPath and invPath are the built orders and inventory programs, set by build.
var binPath, invPath string

// build builds this example and inventory as a user would, once per test run.
func build(t *testing.T) string {
	t.Helper()
	binPath, invPath = testenv.Build(t, "."), testenv.Build(t, "../inventory")
	return binPath
}

// run starts bin with exactly env and returns its bound addresses; the process is
// killed when the test ends.
func run(t *testing.T, bin string, env ...string) (p *testenv.Process, httpAddr, adminAddr string) {
	t.Helper()
	p = testenv.Start(t, bin, env...)
	return p, p.HTTPAddr, p.AdminAddr
}

// stop sends SIGTERM and wants exit code 0.
func stop(t *testing.T, p *testenv.Process) { t.Helper(); p.Stop(t) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestBuiltBinaries builds orders and inventory as users would, runs each as its own
// process on loopback, orders finding inventory through DISCOVERY_STATIC, places an
// order, and stops both with SIGTERM.
func TestBuiltBinaries(t *testing.T) {
	build(t)
	base := []string{"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s"}
	inv, invHTTP, _ := run(t, invPath, append(base, "INVENTORY_SEED=sku-1=5")...)
	ord, ordHTTP, ordAdmin := run(t, binPath, append(base, "DISCOVERY_STATIC=inventory="+invHTTP)...)

	resp, err := http.Post("http://"+ordHTTP+"/orders", "application/json", strings.NewReader(`{"sku":"sku-1","quantity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ ID, Status string }
	_ = json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || o.Status != "confirmed" {
		t.Errorf("POST /orders: got %d %+v, want 201 confirmed", resp.StatusCode, o)
	}
	if code, body := get(t, "http://"+invHTTP+"/items/sku-1"); code != 200 || !strings.Contains(body, `"available":3`) {
		t.Errorf("inventory after the order: got %d %s, want 3 available", code, body)
	}
	if code, body := get(t, "http://"+ordAdmin+"/compliance?format=json"); code != 200 || !strings.Contains(body, `"score": 100`) {
		t.Errorf("orders compliance: got %d %.400s, want score 100", code, body)
	}
	http.DefaultClient.CloseIdleConnections()
	stop(t, ord)
	stop(t, inv)
}

// TestDefaultDiscovery: with no registry and no DISCOVERY_STATIC, the main looks for
// inventory where `go run ./examples/inventory` listens.
func TestDefaultDiscovery(t *testing.T) {
	build(t)
	cmd, _, admin := run(t, binPath, "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s")
	if code, body := get(t, "http://"+admin+"/config"); code != 200 || !strings.Contains(body, "inventory=127.0.0.1:8081") {
		t.Errorf("/config: got %d %.600s, want DISCOVERY_STATIC inventory=127.0.0.1:8081", code, body)
	}
	http.DefaultClient.CloseIdleConnections()
	stop(t, cmd)
}
