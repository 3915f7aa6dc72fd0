package consul_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/consul"
	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/service"
)

// TestServiceWithConsulBackend: service.WithRegistryBackend(consul.Backend()) makes
// REGISTRY=consul register the running service with the real agent at CONSUL_HTTP_ADDR,
// find it through s.Instancer, and deregister at stop.
func TestServiceWithConsulBackend(t *testing.T) {
	agent := realAgent(t)
	t.Setenv("CONSUL_HTTP_ADDR", testenv.Require(t, "PAVED_TEST_CONSUL_ADDR", ""))

	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"SERVICE_NAME": "orders", "HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"REGISTRY": "consul", "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: "orders", Owner: "team-a"}, &cfg,
		service.WithLogOutput(io.Discard), service.WithRegistryBackend(consul.Backend()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	in, err := s.Instancer(context.Background(), "orders")
	if err != nil || in == nil {
		t.Fatalf("Instancer: got %v, %v, want a Consul instancer", in, err)
	}
	var got []discovery.Instance
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, _ = in.Instances(); len(got) == 1 {
			break
		}
	}
	if len(got) != 1 || got[0].Addresses.HTTP != s.HTTPAddr().String() {
		t.Fatalf("instances in Consul: got %+v, want this service at %s", got, s.HTTPAddr())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	services, err := agent.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := services[consul.ServiceID(got[0])]; ok {
		t.Errorf("after stop: the agent still holds %s, want it deregistered", consul.ServiceID(got[0]))
	}
}
