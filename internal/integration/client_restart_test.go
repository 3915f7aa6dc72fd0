package integration_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
)

// liveCatalog is a catalog server on a fixed loopback address that can be restarted
// empty: a new memory store behind a new server on the same address.
type liveCatalog struct {
	t    *testing.T
	addr string
	srv  *http.Server
	st   *memory.Store
	done chan struct{}
}

func startLiveCatalog(t *testing.T, addr string) *liveCatalog {
	t.Helper()
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + teamToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	// The address was just released by the previous server: retry briefly.
	for i := range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if i == 49 {
			t.Fatalf("listen %s: got %v, want nil", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := memory.New(memory.Options{SweepInterval: 100 * time.Millisecond, Grace: time.Second})
	c := &liveCatalog{t: t, addr: ln.Addr().String(), st: st, done: make(chan struct{}),
		srv: &http.Server{Handler: server.New(st, server.Options{Tokens: tokens, AdminToken: adminToken, DefaultWait: 2 * time.Second, Development: true})}}
	go func() { defer close(c.done); _ = c.srv.Serve(ln) }()
	return c
}

func (c *liveCatalog) stop() {
	_ = c.srv.Close()
	<-c.done
	_ = c.st.Close()
}

// TestCatalogRestartedEmpty: the catalog restarts with an empty store on the same
// address; the agent's next heartbeat is refused as unknown, it registers again, and
// a watching instancer sees it back within 10 s.
func TestCatalogRestartedEmpty(t *testing.T) {
	cat := startLiveCatalog(t, "127.0.0.1:0")
	t.Cleanup(func() { cat.stop() })
	base := "http://" + cat.addr
	c := newClient(t, base, teamToken)
	watcher := newClient(t, base, "")
	in := watcher.Instancer("orders")
	defer in.Stop()

	const ttl = 6 * time.Second // heartbeats every 2 s
	agent, err := discovery.NewAgent(c.Registrar(component("orders"), nil), discoverytest.NewInstance("orders", "orders-1", 20001),
		discovery.WithTTL(ttl), discovery.WithBackoff(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- agent.Run(ctx) }()
	defer func() {
		cancel()
		<-runErr
	}()
	discoverytest.WaitFor(t, in, 10*time.Second, "orders-1")

	cat.stop()
	restarted := time.Now()
	cat = startLiveCatalog(t, cat.addr)
	if set, err := watcher.Instances(t.Context(), "orders", false); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("after the restart: got %+v, %v, want an empty catalog (ErrNotFound)", set, err)
	}
	discoverytest.WaitFor(t, in, 10*time.Second, "orders-1")
	if d := time.Since(restarted); d > 10*time.Second {
		t.Fatalf("back after %v, want within 10 s", d)
	}
	t.Logf("instance back %v after the catalog restarted empty", time.Since(restarted).Round(time.Millisecond))
	if st := agent.State(); st != discovery.StateRegistered {
		t.Fatalf("agent state: got %v, want %v", st, discovery.StateRegistered)
	}
}

// TestKilledInstanceLeavesWatchers: an instance that stops heartbeating without
// deregistering (killed) leaves a watching instancer's set within TTL + 2 s; one that
// deregisters leaves it at once.
func TestKilledInstanceLeavesWatchers(t *testing.T) {
	cat := startLiveCatalog(t, "127.0.0.1:0")
	t.Cleanup(func() { cat.stop() })
	base := "http://" + cat.addr
	c := newClient(t, base, teamToken)
	in := newClient(t, base, "").Instancer("orders")
	defer in.Stop()
	reg := c.Registrar(component("orders"), nil)

	// 5 s, not less: on a busy machine the watcher took over 2 s to see the first
	// registrations, by which time a 2 s TTL had already run out.
	const ttl = 5 * time.Second
	killed := discoverytest.NewInstance("orders", "orders-killed", 20001)
	killed.TTL = ttl
	stays := discoverytest.NewInstance("orders", "orders-stays", 20002)
	stays.TTL = time.Minute
	for _, inst := range []discovery.Instance{killed, stays} {
		if err := reg.Register(t.Context(), inst); err != nil {
			t.Fatal(err)
		}
	}
	registered := time.Now()
	discoverytest.WaitFor(t, in, ttl, "orders-killed", "orders-stays")
	// orders-killed never heartbeats again.
	discoverytest.WaitFor(t, in, ttl+2*time.Second, "orders-stays")
	if d := time.Since(registered); d > ttl+2*time.Second || d < ttl-100*time.Millisecond {
		t.Fatalf("killed instance left after %v, want between the TTL %v and TTL + 2 s", d, ttl)
	}
	// A deregistration is seen at once, and later heartbeats are refused as unknown.
	start := time.Now()
	if err := reg.Deregister(t.Context(), stays); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 2*time.Second)
	t.Logf("deregistration seen after %v", time.Since(start).Round(time.Millisecond))
	if err := reg.Heartbeat(t.Context(), stays); !errors.Is(err, discovery.ErrUnknownInstance) {
		t.Fatalf("heartbeat after deregistration: got %v, want ErrUnknownInstance", err)
	}
}
