package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/paved-road/paved/service"
)

// TestGRPCServerInLifecycle: GRPC_ADDR gives the service a gRPC server with the health
// service fed by the health registry: SERVING once ready; the server stops with the
// service.
func TestGRPCServerInLifecycle(t *testing.T) {
	s := newTestService(t, map[string]string{"GRPC_ADDR": "127.0.0.1:0"})
	if _, err := s.GRPC(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	addr := s.Instance().Addresses.GRPC
	if addr == "" {
		t.Fatal("the instance advertises no gRPC address")
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health Check: got %v, %v; want SERVING", resp, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Error("the gRPC server still answers after Run returned")
	}
}

func TestGRPCWithoutAddr(t *testing.T) {
	s := newTestService(t, nil)
	defer s.Close(context.Background())
	if _, err := s.GRPC(); err == nil {
		t.Error("GRPC without GRPC_ADDR: got nil error")
	}
}

// TestGRPCWatchDoesNotHoldStop: a client watching gRPC health sees NOT_SERVING at the
// stop, and its open stream does not hold the graceful stop until SHUTDOWN_TIMEOUT.
func TestGRPCWatchDoesNotHoldStop(t *testing.T) {
	s := newTestService(t, map[string]string{"GRPC_ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": "10s"})
	if _, err := s.GRPC(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	conn, err := grpc.NewClient(s.Instance().Addresses.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	stream, err := healthpb.NewHealthClient(conn).Watch(wctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := stream.Recv(); err != nil || first.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first Watch answer: got %v, %v; want SERVING", first, err)
	}
	start := time.Now()
	cancel()
	sawNotServing := false
	for {
		msg, err := stream.Recv()
		if err != nil {
			break
		}
		if msg.Status == healthpb.HealthCheckResponse_NOT_SERVING {
			sawNotServing = true
		}
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("stop took %s with a watcher open, want it not held until SHUTDOWN_TIMEOUT (10s)", took)
	}
	if !sawNotServing {
		t.Error("the watcher never saw NOT_SERVING")
	}
}

// TestGRPCAddrWithoutServer: GRPC_ADDR set on a service that never calls GRPC is a
// configuration error naming GRPC_ADDR, not a setting silently ignored.
func TestGRPCAddrWithoutServer(t *testing.T) {
	s := newTestService(t, map[string]string{"GRPC_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // a service that starts stops here
	defer cancel()
	err := s.Run(ctx)
	var ce *service.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != "GRPC_ADDR" ||
		!strings.Contains(ce.Problems[0].Msg, "registers no gRPC server") {
		t.Fatalf("Run: got %v, want a *ConfigError naming GRPC_ADDR", err)
	}

	c := startChild(t, map[string]string{"GRPC_ADDR": "127.0.0.1:0"}, false)
	if code := c.wait(t, 15*time.Second); code != service.ExitConfig {
		t.Fatalf("exit code: got %d, want %d\n%s", code, service.ExitConfig, c.output())
	}
	if out := c.output(); !strings.Contains(out, "GRPC_ADDR") || !strings.Contains(out, "registers no gRPC server") {
		t.Errorf("output does not name GRPC_ADDR and why:\n%s", out)
	}
}
