package integration_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/paved-road/paved/catalog/server"
	"github.com/paved-road/paved/catalog/store/memory"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/service"
	"github.com/paved-road/paved/transport/httptransport"
)

// busyAddr returns a loopback address that is already taken, for the test's life.
func busyAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().String()
}

// TestEarlyExitLeavesNoGoroutine: whatever step of the start fails, Run undoes every
// step before it, and so leaves nothing running: not the health loop, not the admin
// server, and not the catalog client's long poll that Service.Client started in setup.
func TestEarlyExitLeavesNoGoroutine(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		info    func(*service.Info)
		setup   func(t *testing.T, s *service.Service)
		wantErr string
	}{
		{
			name: "start hook fails",
			setup: func(t *testing.T, s *service.Service) {
				s.OnStart("db", func(context.Context) error { return errors.New("no database") })
			},
			wantErr: `start hook "db": no database`,
		},
		{
			name:    "http listener fails",
			env:     map[string]string{"HTTP_ADDR": "busy"},
			wantErr: "address already in use",
		},
		{
			name:    "admin listener fails",
			env:     map[string]string{"ADMIN_ADDR": "busy"},
			wantErr: "address already in use",
		},
		{
			name:    "compliance refuses",
			env:     map[string]string{"COMPLIANCE_MODE": "enforce"},
			info:    func(i *service.Info) { i.Owner = "" },
			wantErr: "COMPLIANCE_MODE=enforce",
		},
		{
			name: "middleware fails",
			setup: func(t *testing.T, s *service.Service) {
				// A metric of the same name as the middleware's makes its registration fail.
				if err := s.Registerer().Register(prometheus.NewCounter(prometheus.CounterOpts{
					Name: httptransport.MetricServerDuration, Help: "Taken.",
				})); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "http middleware",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			st := memory.New(memory.Options{})
			defer st.Close()
			cat := httptest.NewServer(server.New(st, server.Options{Open: true}))
			defer cat.Close()
			defer cat.CloseClientConnections() // a leaked long poll must not hold Close

			env := map[string]string{
				"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "DRAIN_DELAY": "0s",
				"SHUTDOWN_TIMEOUT": "5s", "CATALOG_URL": cat.URL,
			}
			for k, v := range tt.env {
				if v == "busy" {
					v = busyAddr(t)
				}
				env[k] = v
			}
			cfg, err := service.Load[service.Config](service.WithEnviron(env))
			if err != nil {
				t.Fatal(err)
			}
			info := compliantInfo
			if tt.info != nil {
				tt.info(&info)
			}
			s, err := service.New(info, &cfg, service.WithLogOutput(io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Client("inventory", resilience.PolicyConfig{}); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			err = s.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run: got %v, want an error containing %q", err, tt.wantErr)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Errorf("Close after Run: got %v, want nil", err)
			}
		})
	}
}

// TestCloseReleasesClients: a service built, given a client, and never run releases
// the client's long poll with Close.
func TestCloseReleasesClients(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	st := memory.New(memory.Options{})
	defer st.Close()
	cat := httptest.NewServer(server.New(st, server.Options{Open: true}))
	defer cat.Close()
	defer cat.CloseClientConnections()
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:0", "CATALOG_URL": cat.URL,
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Name: "unwind-test"}, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client("inventory", resilience.PolicyConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("Close: %v", err)
	}
}
