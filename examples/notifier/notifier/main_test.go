package notifier_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// natsServer starts a real NATS server (nats-server v2, JetStream on) in this process,
// on a free loopback port with its store in a temporary directory, and returns its
// URL; it shuts down when the test ends, after the services (cleanups run in reverse).
// A server of its own per test keeps the tests apart: every one declares ORDERS.
func natsServer(t testing.TB) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready within 10s")
	}
	return ns.ClientURL()
}

// running is a service started by start.
type running struct {
	*service.Service
}

func (r running) url(path string) string   { return "http://" + r.HTTPAddr().String() + path }
func (r running) admin(path string) string { return "http://" + r.AdminAddr().String() + path }

// start loads C from env (on top of loopback test defaults), builds the service with
// setup and runs it until the test ends; Run must then return nil.
func start[C any, PC interface {
	*C
	Base() *service.Config
}](t testing.TB, info service.Info, setup func(*service.Service, PC) error, env map[string]string, opts ...service.Option) running {
	t.Helper()
	s, run := build(t, info, setup, env, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("%s did not start: %v", info.Name, err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s Run: got %v, want nil", info.Name, err)
		}
	})
	return running{s}
}

// build loads C and sets the service up, returning it and its Run.
func build[C any, PC interface {
	*C
	Base() *service.Config
}](t testing.TB, info service.Info, setup func(*service.Service, PC) error, env map[string]string, opts ...service.Option) (*service.Service, func(context.Context) error) {
	t.Helper()
	all := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"SHUTDOWN_TIMEOUT": "5s", "START_TIMEOUT": "10s",
	}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := service.Load[C](service.WithEnviron(all))
	if err != nil {
		t.Fatal(err)
	}
	pc := PC(&cfg)
	opts = append([]service.Option{service.WithConfig(pc), service.WithLogOutput(io.Discard)}, opts...)
	s, err := service.New(info, pc.Base(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup(s, pc); err != nil {
		_ = s.Close(context.Background())
		t.Fatal(err)
	}
	return s, s.Run
}

// get fetches url and decodes its JSON body into a new T, failing on a status other
// than 200.
func get[T any](t testing.TB, url string) T {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200: %s", url, resp.StatusCode, b)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET %s: decoding %s: %v", url, b, err)
	}
	return v
}

// text fetches url and returns its body.
func text(t testing.TB, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// post sends body as JSON to url and returns the status and body.
func post(t testing.TB, url, body string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually calls cond every 20ms until it returns true, failing after 10s with what.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
