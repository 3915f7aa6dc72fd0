package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/examples/orders/orders"
	"github.com/paved-road/paved/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// running is a service started by start, with its stop.
type running struct {
	*service.Service
	stop func()
}

func (r running) url(path string) string   { return "http://" + r.HTTPAddr().String() + path }
func (r running) admin(path string) string { return "http://" + r.AdminAddr().String() + path }

// start loads C from env (on top of loopback test defaults), builds the service with
// setup and runs it until the test ends or stop is called; Run must return nil.
func start[C any, PC interface {
	*C
	Base() *service.Config
}](t testing.TB, info service.Info, setup func(*service.Service, PC) error, env map[string]string, opts ...service.Option) running {
	t.Helper()
	all := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
		"SHUTDOWN_TIMEOUT": "5s", "START_TIMEOUT": "5s",
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("%s did not start: %v", info.Name, err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s Run: got %v, want nil", info.Name, err)
		}
	}
	t.Cleanup(stop)
	return running{Service: s, stop: stop}
}

// call sends method url with body (JSON when not empty) and returns the answer with its
// body read.
func call(t *testing.T, method, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Timeout: 20 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// decode unmarshals b into a new T, failing the test on error.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// problem is an RFC 9457 answer.
type problem struct {
	Title  string
	Status int
	Detail string
	Errors []struct{ Field, Detail string }
}

// wantProblem checks that resp is a problem+json answer with status code.
func wantProblem(t *testing.T, resp *http.Response, body []byte, code int) problem {
	t.Helper()
	if resp.StatusCode != code {
		t.Errorf("status: got %d, want %d (%s)", resp.StatusCode, code, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	p := decode[problem](t, body)
	if p.Status != code {
		t.Errorf("problem status: got %d, want %d", p.Status, code)
	}
	return p
}

// complianceOf reads the admin /compliance report of s.
func complianceOf(t *testing.T, s running) (score int, failed []string, body []byte) {
	t.Helper()
	resp, b := call(t, "GET", s.admin("/compliance?format=json"), "")
	if resp.StatusCode != 200 {
		t.Fatalf("/compliance: got %d, want 200: %s", resp.StatusCode, b)
	}
	rep := decode[struct {
		Score  int
		Failed []string
	}](t, b)
	return rep.Score, rep.Failed, b
}

func hostPort(s running) string { return s.HTTPAddr().String() }

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}

// loadOrders loads orders' Config from env only.
func loadOrders(env map[string]string) (orders.Config, error) {
	return service.Load[orders.Config](service.WithEnviron(env))
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
