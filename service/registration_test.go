package service_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/service"
)

// heartbeatRecorder is a static registry that keeps the metadata of the last
// registration or heartbeat (the static registry applies only the status of a
// heartbeat; the catalog stores the whole instance).
type heartbeatRecorder struct {
	*static.Registry
	mu   sync.Mutex
	last map[string]string
}

func (h *heartbeatRecorder) Register(ctx context.Context, inst discovery.Instance) error {
	h.keep(inst)
	return h.Registry.Register(ctx, inst)
}

func (h *heartbeatRecorder) Heartbeat(ctx context.Context, inst discovery.Instance) error {
	h.keep(inst)
	return h.Registry.Heartbeat(ctx, inst)
}

func (h *heartbeatRecorder) keep(inst discovery.Instance) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = maps.Clone(inst.Metadata)
}

func (h *heartbeatRecorder) metadata() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

func TestRegistrationLifecycle(t *testing.T) {
	reg := &heartbeatRecorder{Registry: &static.Registry{}}
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "300ms", "REGISTRY_TTL": "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: "reg-test", Version: "1.0.0"}, &cfg,
		service.WithLogOutput(io.Discard), service.WithRegistrar(reg))
	if err != nil {
		t.Fatal(err)
	}
	var dbUp = make(chan bool, 1)
	dbUp <- true
	if err := s.Health().Register(health.Check{Name: "db", CacheTTL: time.Millisecond, Check: func(ctx context.Context) error {
		up := <-dbUp
		dbUp <- up
		if !up {
			return io.EOF
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	s.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) {})

	ins := reg.Instancer("reg-test")
	defer ins.Stop()
	events := make(chan []discovery.Instance, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()

	waitFor := func(what string, ok func(discovery.Instance, bool) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			inst, found := reg.Lookup("reg-test", s.InstanceID())
			if ok(inst, found) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		inst, found := reg.Lookup("reg-test", s.InstanceID())
		t.Fatalf("%s: registry has %+v (found %v)", what, inst, found)
	}
	waitFor("registered passing", func(i discovery.Instance, f bool) bool {
		return f && i.Status == discovery.StatusPassing && strings.HasPrefix(i.Addresses.HTTP, "127.0.0.1:") && i.Addresses.Admin != ""
	})
	// A readiness change reaches the registry without waiting for the next heartbeat.
	<-dbUp
	dbUp <- false
	probe(t, "http://"+s.AdminAddr().String()+"/readyz")
	// The heartbeat says which check fails, for the catalog's incident view.
	waitFor("critical after the check fails, naming it", func(i discovery.Instance, f bool) bool {
		return f && i.Status == discovery.StatusCritical && reg.metadata()[catalog.FailingChecksMetadata] == "db"
	})
	<-dbUp
	dbUp <- true
	probe(t, "http://"+s.AdminAddr().String()+"/readyz")
	waitFor("passing again, naming no check", func(i discovery.Instance, f bool) bool {
		_, named := reg.metadata()[catalog.FailingChecksMetadata]
		return f && i.Status == discovery.StatusPassing && !named
	})

	// On stop the instance leaves the registry before the servers stop serving.
	public := "http://" + s.HTTPAddr().String() + "/x"
	cancel()
	waitFor("deregistered", func(_ discovery.Instance, f bool) bool { return !f })
	resp, err := http.Get(public)
	if err != nil {
		t.Fatalf("public server stopped before deregistration was seen: %v", err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	close(events)
	http.DefaultClient.CloseIdleConnections()
}

func probe(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func TestRegistryWithoutBackendIsAConfigError(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"REGISTRY": "etcd", "ETCD_ENDPOINTS": "http://127.0.0.1:2379",
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = service.New(service.Info{Name: "x"}, &cfg, service.WithLogOutput(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "WithRegistryBackend") {
		t.Errorf("got %v, want a config error naming WithRegistryBackend", err)
	}
}

// TestRegistryNoneWithOwnRegistrar: REGISTRY=none turns registration off even when the
// main passed its own registrar (it was silently ignored: the service registered).
func TestRegistryNoneWithOwnRegistrar(t *testing.T) {
	reg := &static.Registry{}
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s", "REGISTRY": "none",
	}))
	if err != nil {
		t.Fatal(err)
	}
	log := &testenv.Buffer{}
	s, err := service.New(service.Info{Name: "reg-none", Version: "1.0.0"}, &cfg,
		service.WithLogOutput(log), service.WithRegistrar(reg))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	time.Sleep(100 * time.Millisecond) // registration starts in the background at once
	_, found := reg.Lookup("reg-none", s.InstanceID())
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if found {
		t.Error("got the instance registered with REGISTRY=none, want no registration")
	}
	if !strings.Contains(log.String(), "REGISTRY=none: not registering") {
		t.Errorf("got log %q, want it to say registration is off", log.String())
	}
}
