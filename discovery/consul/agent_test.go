package consul_test

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/consul"
	"github.com/paved-road/paved/discovery/discoverytest"
	"github.com/paved-road/paved/internal/testenv"
)

// realAgent returns a client of the real Consul agent scripts/testenv.sh starts
// (consul agent -dev on loopback, PAVED_TEST_CONSUL_ADDR), with every service the agent
// holds deregistered first, so that each test starts from an empty agent.
func realAgent(t *testing.T) *api.Client {
	t.Helper()
	addr := testenv.Require(t, "PAVED_TEST_CONSUL_ADDR", "")
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = addr
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("api.NewClient: got %v, want nil", err)
	}
	t.Cleanup(cfg.Transport.CloseIdleConnections)
	services, err := client.Agent().Services()
	if err != nil {
		t.Fatalf("agent services: got %v, want the agent at %s", err, addr)
	}
	for id := range services {
		if err := client.Agent().ServiceDeregister(id); err != nil {
			t.Fatalf("deregister %s: %v", id, err)
		}
	}
	return client
}

// TestConformanceAgainstRealConsul runs the backends' conformance suite against a real
// Consul agent: registration with a TTL check, heartbeats as check updates, blocking
// queries, an agent that forgot the service.
func TestConformanceAgainstRealConsul(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discoverytest.Backend {
		client := realAgent(t)
		reg, err := consul.NewRegistrar(client)
		if err != nil {
			t.Fatalf("NewRegistrar: got %v, want nil", err)
		}
		return discoverytest.Backend{
			Registrar: reg,
			NewInstancer: func(t testing.TB, service string, opts ...discovery.CacheOption) discovery.Instancer {
				in, err := consul.NewInstancer(client, service, consul.WithCacheOptions(opts...), consul.WithWaitTime(2*time.Second))
				if err != nil {
					t.Fatalf("NewInstancer: got %v, want nil", err)
				}
				return in
			},
			Forget: func(t testing.TB, inst discovery.Instance) {
				if err := client.Agent().ServiceDeregister(consul.ServiceID(inst)); err != nil {
					t.Fatalf("agent deregister %s: %v", consul.ServiceID(inst), err)
				}
			},
		}
	})
}

// TestRealAgentExpiresTTL: on a real agent an instance that stops heartbeating turns
// critical after its TTL and leaves clients' sets, and its metadata round-trips.
func TestRealAgentExpiresTTL(t *testing.T) {
	client := realAgent(t)
	reg, err := consul.NewRegistrar(client)
	if err != nil {
		t.Fatal(err)
	}
	in, err := consul.NewInstancer(client, "orders", consul.WithWaitTime(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	inst := discoverytest.NewInstance("orders", "orders-a", 20001)
	inst.TTL = 2 * time.Second
	if err := reg.Register(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
	got := discoverytest.WaitFor(t, in, 10*time.Second, "orders-a")
	if got[0].Addresses != inst.Addresses || got[0].Version != inst.Version {
		t.Errorf("instance from the agent: got %+v, want addresses %+v version %s", got[0], inst.Addresses, inst.Version)
	}
	discoverytest.WaitFor(t, in, inst.TTL+10*time.Second)
	if err := reg.Deregister(t.Context(), inst); err != nil {
		t.Errorf("Deregister: got %v, want nil", err)
	}
}
