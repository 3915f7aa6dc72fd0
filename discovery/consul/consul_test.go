package consul_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/consul"
	"github.com/paved-road/paved/discovery/consul/internal/fakeconsul"
	"github.com/paved-road/paved/discovery/discoverytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newFake starts the FAKE Consul agent on loopback and returns a client of it.
func newFake(t testing.TB) (*fakeconsul.Server, *api.Client) {
	t.Helper()
	fake := fakeconsul.New()
	srv := httptest.NewServer(fake)
	t.Cleanup(func() {
		fake.Close() // ends blocking queries first
		srv.Close()
	})
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = srv.Listener.Addr().String()
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("api.NewClient: got %v, want nil", err)
	}
	t.Cleanup(cfg.Transport.CloseIdleConnections)
	return fake, client
}

func TestConformanceAgainstFakeConsul(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discoverytest.Backend {
		fake, client := newFake(t)
		reg, err := consul.NewRegistrar(client)
		if err != nil {
			t.Fatalf("NewRegistrar: got %v, want nil", err)
		}
		return discoverytest.Backend{
			Registrar: reg,
			NewInstancer: func(t testing.TB, service string, opts ...discovery.CacheOption) discovery.Instancer {
				in, err := consul.NewInstancer(client, service, consul.WithCacheOptions(opts...))
				if err != nil {
					t.Fatalf("NewInstancer: got %v, want nil", err)
				}
				return in
			},
			Forget: func(t testing.TB, inst discovery.Instance) {
				if !fake.Forget(consul.ServiceID(inst)) {
					t.Fatalf("fake.Forget(%s): got false, want true", consul.ServiceID(inst))
				}
			},
		}
	})
}

func TestRegistrationUsesTTLCheck(t *testing.T) {
	fake, client := newFake(t)
	reg, err := consul.NewRegistrar(client, consul.WithDeregisterCriticalAfter(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	inst := discoverytest.NewInstance("orders", "orders-a", 20001)
	inst.TTL = 9 * time.Second
	ctx := t.Context()
	if err := reg.Register(ctx, inst); err != nil {
		t.Fatalf("Register: got %v, want nil", err)
	}
	entries, _, err := client.Health().Service("orders", "", false, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil || len(entries) != 1 {
		t.Fatalf("health: got %d entries (err %v), want 1", len(entries), err)
	}
	e := entries[0]
	if e.Service.ID != "orders-orders-a" || e.Service.Address != "127.0.0.1" || e.Service.Port != 20001 {
		t.Errorf("service: got id %q at %s:%d, want orders-orders-a at 127.0.0.1:20001", e.Service.ID, e.Service.Address, e.Service.Port)
	}
	if got := e.Service.Meta[consul.MetaGRPC]; got != "127.0.0.1:20003" {
		t.Errorf("meta %s: got %q, want 127.0.0.1:20003", consul.MetaGRPC, got)
	}
	// Heartbeats are TTL check updates carrying the status.
	inst.Status = discovery.StatusWarning
	if err := reg.Heartbeat(ctx, inst); err != nil {
		t.Fatalf("Heartbeat: got %v, want nil", err)
	}
	if got := fake.Requests("PUT /v1/agent/check/update"); got != 1 {
		t.Errorf("check updates: got %d, want 1", got)
	}
	entries, _, _ = client.Health().Service("orders", "", false, (&api.QueryOptions{}).WithContext(ctx))
	if got := entries[0].Checks.AggregatedStatus(); got != api.HealthWarning {
		t.Errorf("aggregated status: got %s, want %s", got, api.HealthWarning)
	}
	// Unknown check: the agent forgot the service.
	fake.Reset()
	if err := reg.Heartbeat(ctx, inst); !errors.Is(err, discovery.ErrUnknownInstance) {
		t.Errorf("Heartbeat after agent reset: got %v, want discovery.ErrUnknownInstance", err)
	}
}

// TestExpiredCheckDropsInstance: an instance that stops heartbeating turns critical after
// its TTL and leaves clients' sets.
func TestExpiredCheckDropsInstance(t *testing.T) {
	_, client := newFake(t)
	reg, err := consul.NewRegistrar(client)
	if err != nil {
		t.Fatal(err)
	}
	in, err := consul.NewInstancer(client, "orders")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	inst := discoverytest.NewInstance("orders", "orders-a", 20001)
	inst.TTL = time.Second
	if err := reg.Register(t.Context(), inst); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 5*time.Second, "orders-a")
	start := time.Now()
	discoverytest.WaitFor(t, in, inst.TTL+2*time.Second)
	t.Logf("dropped %v after the last update (TTL %v)", time.Since(start).Round(time.Millisecond), inst.TTL)
}

func TestAgentUnreachableKeepsLastKnownSet(t *testing.T) {
	fake := fakeconsul.New()
	srv := httptest.NewServer(fake)
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = srv.Listener.Addr().String()
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Transport.CloseIdleConnections()
	reg, _ := consul.NewRegistrar(client)
	in, err := consul.NewInstancer(client, "orders", consul.WithWaitTime(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	if err := reg.Register(t.Context(), discoverytest.NewInstance("orders", "orders-a", 20001)); err != nil {
		t.Fatal(err)
	}
	discoverytest.WaitFor(t, in, 5*time.Second, "orders-a")
	fake.Close()
	srv.Close() // the agent is gone
	deadline := time.Now().Add(5 * time.Second)
	for {
		insts, err := in.Instances()
		if err != nil {
			if len(insts) != 1 || insts[0].ID != "orders-a" {
				t.Errorf("while unreachable: got %v, want the last known set [orders-a]", insts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no error reported 5 s after the agent went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRegisterRejectsReservedMetadata(t *testing.T) {
	_, client := newFake(t)
	reg, _ := consul.NewRegistrar(client)
	inst := discoverytest.NewInstance("orders", "orders-a", 20001)
	inst.Metadata["paved-version"] = "x"
	err := reg.Register(context.Background(), inst)
	var ve *discovery.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), `"paved-version"`) {
		t.Errorf("Register: got %v, want a *discovery.ValidationError naming paved-version", err)
	}
	if _, err := consul.NewRegistrar(client, consul.WithDeregisterCriticalAfter(-time.Second)); err == nil {
		t.Errorf("NewRegistrar(negative deregister-after): got nil, want an error")
	}
}
