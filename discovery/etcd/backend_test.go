package etcd_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/etcd"
	"github.com/paved-road/paved/service"
)

// TestServiceWithEtcdBackend: the one line a team adds, service.WithRegistryBackend(
// etcd.Backend()), makes REGISTRY=etcd register the running service in a real etcd
// with its addresses, lets s.Instancer find it, and deregisters it at stop; the
// backend's client is closed with the service (goleak in TestMain).
func TestServiceWithEtcdBackend(t *testing.T) {
	eps := endpoints(t)
	prefix := testPrefix(t, newClient(t, eps))
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"SERVICE_NAME": "orders", "HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"REGISTRY": "etcd", "ETCD_ENDPOINTS": strings.Join(eps, ","), "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: "orders", Owner: "team-a"}, &cfg,
		service.WithLogOutput(io.Discard), service.WithRegistryBackend(etcd.Backend(etcd.WithPrefix(prefix))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	in, err := s.Instancer(context.Background(), "orders")
	if err != nil || in == nil {
		t.Fatalf("Instancer: got %v, %v, want an etcd instancer", in, err)
	}
	var got []discovery.Instance
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, _ = in.Instances(); len(got) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Addresses.HTTP != s.HTTPAddr().String() {
		t.Fatalf("instances in etcd: got %+v, want this service at %s", got, s.HTTPAddr())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	c := newClient(t, eps)
	resp, err := c.Get(context.Background(), etcd.Key(prefix, "orders", got[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 0 {
		t.Errorf("after stop: the instance key is still in etcd, want it deregistered")
	}
}

// TestServiceWithoutEtcdBackend: REGISTRY=etcd in a program that did not link the
// backend is a configuration error that names the line to add.
func TestServiceWithoutEtcdBackend(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"REGISTRY": "etcd", "ETCD_ENDPOINTS": "http://127.0.0.1:2379",
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(service.Info{Name: "orders"}, &cfg, service.WithLogOutput(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "service.WithRegistryBackend(etcd.Backend())") {
		t.Errorf("got %v, want a config error naming service.WithRegistryBackend(etcd.Backend())", err)
	}
}
