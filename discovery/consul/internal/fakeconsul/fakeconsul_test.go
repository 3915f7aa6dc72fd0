package fakeconsul_test

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/discovery/consul/internal/fakeconsul"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newClient(t *testing.T) (*fakeconsul.Server, *api.Client) {
	fake := fakeconsul.New()
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = srv.Listener.Addr().String()
	t.Cleanup(cfg.Transport.CloseIdleConnections)
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

// TestTTLExpiryAndReaping: a check not updated turns critical after its TTL, and the
// service goes after DeregisterCriticalServiceAfter, each waking blocking queries.
func TestTTLExpiryAndReaping(t *testing.T) {
	_, c := newClient(t)
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: "web-1", Name: "web", Port: 8080,
		Check: &api.AgentServiceCheck{TTL: "300ms", Status: api.HealthPassing, DeregisterCriticalServiceAfter: "300ms"},
	})
	if err != nil {
		t.Fatalf("register: got %v, want nil", err)
	}
	entries, meta, err := c.Health().Service("web", "", true, nil)
	if err != nil || len(entries) != 1 {
		t.Fatalf("passing entries: got %d (err %v), want 1", len(entries), err)
	}
	if got := entries[0].Checks[1].CheckID; got != "service:web-1" {
		t.Errorf("default check id: got %q, want service:web-1", got)
	}
	start := time.Now()
	// Blocking query: returns when the check expires, not after the 10 s wait.
	entries, meta2, err := c.Health().Service("web", "", false, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 10 * time.Second})
	if err != nil || len(entries) != 1 || entries[0].Checks.AggregatedStatus() != api.HealthCritical {
		t.Fatalf("after the TTL: got %d entries (err %v), want 1 critical", len(entries), err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 5*time.Second {
		t.Errorf("expiry after: got %v, want about 300ms", d)
	}
	entries, _, err = c.Health().Service("web", "", false, &api.QueryOptions{WaitIndex: meta2.LastIndex, WaitTime: 10 * time.Second})
	if err != nil || len(entries) != 0 {
		t.Errorf("after DeregisterCriticalServiceAfter: got %d entries (err %v), want 0", len(entries), err)
	}
}

func TestBlockingQueryTimesOutWithSameIndex(t *testing.T) {
	_, c := newClient(t)
	_, meta, err := c.Health().Service("web", "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, meta2, err := c.Health().Service("web", "", false, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 200 * time.Millisecond})
	if err != nil || meta2.LastIndex != meta.LastIndex {
		t.Errorf("unchanged: got index %d (err %v), want %d", meta2.LastIndex, err, meta.LastIndex)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("returned after %v, want after the 200ms wait", d)
	}
}

func TestErrorsLikeConsul(t *testing.T) {
	_, c := newClient(t)
	var se api.StatusError
	err := c.Agent().UpdateTTL("service:nope", "", api.HealthPassing)
	if !asStatus(err, &se) || se.Code != 500 {
		t.Errorf("unknown check: got %v, want a 500 StatusError", err)
	}
	err = c.Agent().ServiceDeregister("nope")
	if !asStatus(err, &se) || se.Code != 404 {
		t.Errorf("unknown service: got %v, want a 404 StatusError", err)
	}
	err = c.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "x"})
	if !asStatus(err, &se) || se.Code != 400 {
		t.Errorf("no name: got %v, want a 400 StatusError", err)
	}
}

func asStatus(err error, se *api.StatusError) bool {
	return errors.As(err, se)
}
