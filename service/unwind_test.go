package service_test

import (
	"context"
	"net"
	"strings"
	"testing"
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

// TestListenErrorNamesSetting: a port in use fails Run with an error that says which
// server could not listen, why, and which setting gave the address.
func TestListenErrorNamesSetting(t *testing.T) {
	for _, setting := range []string{"HTTP_ADDR", "ADMIN_ADDR", "GRPC_ADDR"} {
		t.Run(setting, func(t *testing.T) {
			addr := busyAddr(t)
			env := map[string]string{setting: addr}
			if setting != "GRPC_ADDR" {
				env["GRPC_ADDR"] = "127.0.0.1:0"
			}
			s := newTestService(t, env)
			if _, err := s.GRPC(); err != nil {
				t.Fatal(err)
			}
			err := s.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), "("+setting+"): listen tcp "+addr) ||
				!strings.Contains(err.Error(), "address already in use") {
				t.Errorf("Run: got %v, want an error naming %s and the listen error on %s", err, setting, addr)
			}
		})
	}
}
