package integration_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/catalog/client"
	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/discoverytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	teamToken  = "team-a-token-0123456789"
	otherToken = "team-b-token-0123456789"
	adminToken = "admin-token-0123456789ab"
)

// newCatalog runs the real catalog API over a memory store on a loopback listener.
func newCatalog(t testing.TB) *httptest.Server {
	t.Helper()
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + teamToken + "\nteam-b:" + otherToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{SweepInterval: 100 * time.Millisecond})
	srv := httptest.NewServer(server.New(st, server.Options{Tokens: tokens, AdminToken: adminToken, DefaultWait: 2 * time.Second, Development: true}))
	t.Cleanup(func() { srv.Close(); _ = st.Close() })
	return srv
}

func newClient(t testing.TB, base, token string) *client.Client {
	t.Helper()
	c, err := client.New(base, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func component(name string) catalog.Component {
	return catalog.Component{Name: name, Owner: "team-a", Type: "service", Tier: 2, Lifecycle: catalog.LifecycleProduction}
}

// TestConformance runs the discovery backend suite against the catalog client and the
// real catalog server.
func TestConformance(t *testing.T) {
	discoverytest.Run(t, func(t *testing.T) discoverytest.Backend {
		srv := newCatalog(t)
		c := newClient(t, srv.URL, teamToken)
		admin := newClient(t, srv.URL, adminToken)
		var mu sync.Mutex // guards regs: the suite registers from several goroutines
		regs := map[string]*client.Registrar{}
		return discoverytest.Backend{
			Registrar: registrarFunc(func(service string) discovery.Registrar {
				mu.Lock()
				defer mu.Unlock()
				if r, ok := regs[service]; ok {
					return r
				}
				r := c.Registrar(component(service), nil)
				regs[service] = r
				return r
			}),
			NewInstancer: func(t testing.TB, service string, opts ...discovery.CacheOption) discovery.Instancer {
				return c.Instancer(service, opts...)
			},
			Forget: func(t testing.TB, inst discovery.Instance) {
				if err := admin.DeleteInstance(context.Background(), inst.Service, inst.ID); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// registrarFunc routes each call to the registrar of the instance's component.
type registrarFunc func(service string) discovery.Registrar

func (f registrarFunc) Register(ctx context.Context, inst discovery.Instance) error {
	return f(inst.Service).Register(ctx, inst)
}
func (f registrarFunc) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	return f(inst.Service).Heartbeat(ctx, inst)
}
func (f registrarFunc) Deregister(ctx context.Context, inst discovery.Instance) error {
	return f(inst.Service).Deregister(ctx, inst)
}

func TestErrors(t *testing.T) {
	srv := newCatalog(t)
	ctx := context.Background()
	if _, err := newClient(t, srv.URL, "").PutComponent(ctx, component("orders")); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("no token: got %v, want ErrUnauthorized", err)
	}
	if _, err := newClient(t, srv.URL, teamToken).PutComponent(ctx, component("orders")); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, srv.URL, otherToken).PutComponent(ctx, component("orders")); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("other team: got %v, want ErrForbidden", err)
	}
	if _, err := newClient(t, srv.URL, "").GetComponent(ctx, "nope"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("unknown: got %v, want ErrNotFound", err)
	}
	bad := component("orders")
	bad.Links.Runbook = "javascript:alert(1)"
	_, err := newClient(t, srv.URL, teamToken).PutComponent(ctx, bad)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || !strings.Contains(err.Error(), "links.runbook") {
		t.Errorf("invalid link: got %v, want a 400 naming links.runbook", err)
	}
	if _, err := client.New("catalog:8080"); err == nil {
		t.Error("New accepted a base URL without a scheme")
	}
}

func TestScorecardSentOnceAndOnChange(t *testing.T) {
	srv := newCatalog(t)
	c := newClient(t, srv.URL, teamToken)
	score := 80
	sc := func() (catalog.Scorecard, bool) {
		return catalog.Scorecard{Component: "orders", Instance: "orders-1", RuleSetVersion: "2026.11", Score: score,
			Passed: []string{"owner-set"}, Failed: []catalog.RuleResult{{ID: "runbook-link", Level: catalog.LevelWarning, Message: "runbook link is not set"}}}, true
	}
	r := c.Registrar(component("orders"), sc)
	inst := discovery.Instance{ID: "orders-1", Service: "orders", Version: "1.0.0", Status: discovery.StatusPassing,
		Addresses: discovery.Addresses{HTTP: "127.0.0.1:8080", Admin: "127.0.0.1:9090"}, TTL: 30 * time.Second}
	ctx := context.Background()
	if err := r.Register(ctx, inst); err != nil {
		t.Fatal(err)
	}
	got, err := c.Scorecard(ctx, "orders")
	if err != nil || got.Score != 80 {
		t.Fatalf("scorecard after register: got %+v, %v", got, err)
	}
	score = 100
	if err := r.Heartbeat(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Scorecard(ctx, "orders"); got.Score != 100 {
		t.Errorf("scorecard after a changed report: got %d, want 100", got.Score)
	}
}
