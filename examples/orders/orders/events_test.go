package orders_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/examples/orders/orders"
)

// embeddedNATS is a real nats-server (JetStream on) run in this process on a fixed
// loopback port and store directory, so that it can be shut down and started again
// where the services expect it.
type embeddedNATS struct {
	t    *testing.T
	port int
	dir  string
	ns   *server.Server
}

// startNATS starts an embedded server on a free port; it stops when the test ends.
func startNATS(t *testing.T) *embeddedNATS {
	t.Helper()
	e := &embeddedNATS{t: t, port: server.RANDOM_PORT, dir: t.TempDir()}
	e.start()
	e.port = e.ns.Addr().(*net.TCPAddr).Port
	t.Cleanup(e.stop)
	return e
}

func (e *embeddedNATS) start() {
	e.t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: e.port, JetStream: true, StoreDir: e.dir, NoLog: true, NoSigs: true})
	if err != nil {
		e.t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		e.t.Fatal("nats-server not ready within 10s")
	}
	e.ns = ns
}

func (e *embeddedNATS) stop() {
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns.WaitForShutdown()
		e.ns = nil
	}
}

func (e *embeddedNATS) url() string { return e.ns.ClientURL() }

// TestUnavailableEventsAnswer503: with NATS_URL set, an order whose orders.placed event
// the broker cannot take (the server is down) is answered 503 problem+json with
// Retry-After, as documented (ErrEventsUnavailable); the publish breaker then opens, so
// later orders fail fast instead of each waiting for the acknowledgement timeout;
// readiness fails on the nats check; once the server is back and the breaker has
// cooled down, orders are placed again.
//
// Each order refused this way keeps the stock inventory reserved for it (the endpoint
// reserves before it publishes and releases nothing), and a client's retry is a new
// order: the seed is large enough for that.
func TestUnavailableEventsAnswer503(t *testing.T) {
	nats := startNATS(t)
	inv := start(t, inventory.Info(), inventory.Setup, map[string]string{"INVENTORY_SEED": "sku-1=1000"})
	ord := start(t, orders.Info(), orders.Setup, map[string]string{
		"DISCOVERY_STATIC": "inventory=" + inv.HTTPAddr().String(), "NATS_URL": nats.url(),
		"NATS_PUBLISH_ATTEMPT_TIMEOUT": "300ms", "NATS_PUBLISH_TIMEOUT": "1s",
		"NATS_PUBLISH_BREAKER_CONSECUTIVE_FAILURES": "2", "NATS_PUBLISH_BREAKER_OPEN_TIMEOUT": "1s",
	})
	order := `{"sku":"sku-1","quantity":1}`
	if resp, b := call(t, "POST", ord.url("/orders"), order); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /orders with NATS up: got %d, want 201: %s", resp.StatusCode, b)
	}

	nats.stop()
	resp, b := call(t, "POST", ord.url("/orders"), order)
	p := wantProblem(t, resp, b, http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "could not be announced") {
		t.Errorf("problem detail: got %q, want the events' message", p.Detail)
	}
	// Until the breaker opens, each order waits for the acknowledgement's timeout;
	// once it is open, the answer is at once, with the breaker's Retry-After.
	var fast time.Duration
	var retryAfter string
	for i := 0; i < 5 && retryAfter == ""; i++ {
		t0 := time.Now()
		resp, b = call(t, "POST", ord.url("/orders"), order)
		fast = time.Since(t0)
		wantProblem(t, resp, b, http.StatusServiceUnavailable)
		retryAfter = resp.Header.Get("Retry-After")
	}
	t.Logf("open breaker answered in %v", fast)
	if retryAfter != "1" || fast > 300*time.Millisecond {
		t.Errorf("breaker: got Retry-After %q after %v, want the open breaker's (1 s) sooner than one attempt's acknowledgement timeout (300ms)", retryAfter, fast)
	}
	if resp, b := call(t, "GET", ord.admin("/readyz?verbose"), ""); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "nats") {
		t.Errorf("/readyz with NATS down: got %d %s, want 503 naming the nats check", resp.StatusCode, b)
	}

	nats.start()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, b := call(t, "POST", ord.url("/orders"), order)
		if resp.StatusCode == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST /orders after NATS restarted: still %d after 20s: %s", resp.StatusCode, b)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
