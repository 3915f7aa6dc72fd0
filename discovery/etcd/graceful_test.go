package etcd_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
	"github.com/paved-road/paved/discovery/etcd"
)

// TestGracefulStopDeregistersBeforeServerStops follows the service's stop order with a
// real HTTP server: readiness fails, the agent deregisters, a watching client sees the
// instance go while the server still accepts connections, and only then does the server
// shut down.
func TestGracefulStopDeregistersBeforeServerStops(t *testing.T) {
	c := newClient(t, endpoints(t))
	prefix := testPrefix(t, c)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(portStr)

	reg, err := etcd.NewRegistrar(c, etcd.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	inst := discoverytest.NewInstance("orders", "orders-a", p)
	agent, err := discovery.NewAgent(reg, inst, discovery.WithTTL(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- agent.Run(ctx) }()

	watcher, err := etcd.NewInstancer(c, "orders", etcd.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	got := discoverytest.WaitFor(t, watcher, 10*time.Second, "orders-a")
	resp, err := http.Get("http://" + got[0].Addresses.HTTP)
	if err != nil {
		t.Fatalf("calling the discovered address: %v", err)
	}
	resp.Body.Close()

	if err := agent.Deregister(t.Context()); err != nil {
		t.Fatalf("Deregister: got %v, want nil", err)
	}
	discoverytest.WaitFor(t, watcher, 5*time.Second) // seen gone by the client...
	resp, err = http.Get(srv.URL)                    // ...while the server still serves
	if err != nil {
		t.Fatalf("server after deregistration: got %v, want it still serving", err)
	}
	resp.Body.Close()
	srv.Close()
	if err := <-runErr; err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
}

// BenchmarkHeartbeat measures one heartbeat (a transaction on etcd) without a status
// change, the steady-state cost per instance every TTL/3.
func BenchmarkHeartbeat(b *testing.B) {
	c := newClient(b, endpoints(b))
	prefix := testPrefix(b, c)
	reg, err := etcd.NewRegistrar(c, etcd.WithPrefix(prefix))
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	inst := discoverytest.NewInstance("orders", "orders-bench", 20001)
	if err := reg.Register(b.Context(), inst); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := reg.Heartbeat(b.Context(), inst); err != nil {
			b.Fatal(err)
		}
	}
}
