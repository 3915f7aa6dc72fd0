package inventory_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/examples/inventory/inventory"
	"github.com/paved-road/paved/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startInventory runs inventory on loopback with env over the test defaults until the
// test ends; Run must return nil.
func startInventory(t *testing.T, env map[string]string) *service.Service {
	t.Helper()
	all := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s"}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := service.Load[inventory.Config](service.WithEnviron(all))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(inventory.Info(), &cfg.Config, service.WithConfig(&cfg), service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := inventory.Setup(s, &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
	})
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("inventory not ready within 10s")
	}
	return s
}

func call(t *testing.T, method, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Timeout: 10 * time.Second}
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

type problem struct {
	Status int
	Detail string
	Errors []struct{ Field, Detail string }
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}
