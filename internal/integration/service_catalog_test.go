package integration_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/service/profiler"
)

// TestRegistersInCatalog: with CATALOG_URL set, a service registers its component (from
// Info), its instance and its compliance scorecard in a real catalog, and deregisters on
// stop.
func TestRegistersInCatalog(t *testing.T) {
	const token = "team-a-token-0123456789"
	tokens, err := server.ParseTokens(strings.NewReader("team-a:" + token))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Options{})
	defer st.Close()
	cat := httptest.NewServer(server.New(st, server.Options{Tokens: tokens, Development: true}))
	defer cat.Close()

	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"CATALOG_URL": cat.URL, "CATALOG_TOKEN": token, "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	info := compliantInfo
	info.Name = "orders"
	info.Owner = "team-a"
	s, err := service.New(info, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Health().Register(health.Check{Name: "db", Check: func(context.Context) error { return nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()

	deadline := time.Now().Add(10 * time.Second)
	for {
		set, err := st.Instances(context.Background(), "orders")
		if err == nil && len(set.Instances) == 1 && set.Instances[0].Status == "passing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance not registered passing: %+v %v", set, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	comp, err := st.GetComponent(context.Background(), "orders")
	if err != nil || comp.Owner != "team-a" || comp.Tier != 2 || comp.Links.Runbook == "" {
		t.Errorf("component: got %+v, %v", comp, err)
	}
	for {
		sc, err := st.Scorecard(context.Background(), "orders")
		if err == nil && len(sc.Instances) == 1 && sc.Instances[0].Score == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scorecard: got %+v, %v; want one instance at 100", sc, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if set, _ := st.Instances(context.Background(), "orders"); len(set.Instances) != 0 {
		t.Errorf("instance still registered after stop: %+v", set.Instances)
	}
}

// TestWiringChangesScoreInCatalog: the same component run twice, once without a
// readiness check and with pprof on in production, shows a lower score in the catalog
// than when wired properly: the score follows what the service wired, not what it says.
func TestWiringChangesScoreInCatalog(t *testing.T) {
	const token = "team-a-token-0123456789"
	tokens, _ := server.ParseTokens(strings.NewReader("team-a:" + token))
	st := memory.New(memory.Options{})
	defer st.Close()
	cat := httptest.NewServer(server.New(st, server.Options{Tokens: tokens, Development: true}))
	defer cat.Close()

	scoreOf := func(env map[string]string, withCheck bool) int {
		t.Helper()
		base := map[string]string{
			"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
			"CATALOG_URL": cat.URL, "CATALOG_TOKEN": token, "REGISTRY_TTL": "3s",
			"SERVICE_ENV": "production", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
		}
		for k, v := range env {
			base[k] = v
		}
		cfg, err := service.Load[service.Config](service.WithEnviron(base))
		if err != nil {
			t.Fatal(err)
		}
		info := compliantInfo
		info.Name, info.Owner = "billing", "team-a"
		s, err := service.New(info, &cfg, service.WithLogOutput(io.Discard), service.WithProfiler(profiler.Register))
		if err != nil {
			t.Fatal(err)
		}
		if withCheck {
			_ = s.Health().Register(health.Check{Name: "db", Check: func(context.Context) error { return nil }})
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		<-s.Ready()
		defer func() { cancel(); <-done }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			sc, err := st.Scorecard(context.Background(), "billing")
			if err == nil && len(sc.Instances) == 1 && sc.Instances[0].Instance == s.InstanceID() {
				return sc.Instances[0].Score
			}
			if time.Now().After(deadline) {
				t.Fatalf("no scorecard for %s: %+v %v", s.InstanceID(), sc, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	good := scoreOf(nil, true)
	bad := scoreOf(map[string]string{"PPROF_ENABLED": "true"}, false)
	if good != 100 || bad >= good {
		t.Errorf("scores: well wired %d, badly wired %d; want 100 and less", good, bad)
	}
}

// TestCatalogDownAtStartup: the catalog is not there when the service starts; the
// service becomes ready and serves anyway, and once the catalog comes up on its address
// the instance appears within two heartbeat intervals.
func TestCatalogDownAtStartup(t *testing.T) {
	const token = "team-a-token-0123456789"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there until the catalog starts

	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"CATALOG_URL": "http://" + addr, "CATALOG_TOKEN": token, "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	info := compliantInfo
	info.Name, info.Owner = "late", "team-a"
	s, err := service.New(info, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	s.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the service did not become ready while the catalog was down")
	}
	probe(t, "http://"+s.HTTPAddr().String()+"/x")
	time.Sleep(1500 * time.Millisecond) // a few failed attempts

	tokens, _ := server.ParseTokens(strings.NewReader("team-a:" + token))
	st := memory.New(memory.Options{})
	defer st.Close()
	cl, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cat := httptest.NewUnstartedServer(server.New(st, server.Options{Tokens: tokens, Development: true}))
	cat.Listener = cl
	cat.Start()
	defer cat.Close()
	up := time.Now()
	interval := time.Second // REGISTRY_TTL / 3
	for {
		set, err := st.Instances(context.Background(), "late")
		if err == nil && len(set.Instances) == 1 {
			break
		}
		if time.Since(up) > 2*interval+500*time.Millisecond {
			t.Fatalf("instance not registered within two heartbeat intervals of the catalog coming up: %+v %v", set, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("registered %s after the catalog came up", time.Since(up).Round(time.Millisecond))
}
