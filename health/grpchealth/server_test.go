package grpchealth_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/health/grpchealth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts a real gRPC server on loopback with the health service and returns its
// address and a connected client.
func serve(t *testing.T, reg *health.Registry, services ...string) (string, healthpb.HealthClient) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, grpchealth.New(reg, services...))
	go srv.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return lis.Addr().String(), healthpb.NewHealthClient(conn)
}

func newRegistry(t *testing.T) (*health.Registry, *atomic.Bool) {
	t.Helper()
	reg, err := health.New(health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	var dbDown atomic.Bool
	checks := []health.Check{
		{Name: "loop", Kinds: health.Liveness, Check: func(context.Context) error { return nil }},
		{Name: "db", Dependency: "postgres", CacheTTL: time.Millisecond, Check: func(context.Context) error {
			if dbDown.Load() {
				return errors.New("down")
			}
			return nil
		}},
	}
	for _, c := range checks {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	return reg, &dbDown
}

func TestCheck(t *testing.T) {
	reg, dbDown := newRegistry(t)
	_, client := serve(t, reg, "orders.v1.Orders")
	ctx := context.Background()
	const (
		serving    = healthpb.HealthCheckResponse_SERVING
		notServing = healthpb.HealthCheckResponse_NOT_SERVING
	)
	steps := []struct {
		name   string
		before func()
		want   map[string]healthpb.HealthCheckResponse_ServingStatus
	}{
		{"starting", func() {}, map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "readiness": notServing, "startup": notServing, "liveness": serving,
			"orders.v1.Orders": notServing, "db": serving, "loop": serving}},
		{"started", reg.MarkStarted, map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": serving, "readiness": serving, "startup": serving, "liveness": serving, "orders.v1.Orders": serving}},
		{"db down", func() { dbDown.Store(true); time.Sleep(5 * time.Millisecond) }, map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "db": notServing, "liveness": serving, "loop": serving}},
		{"shutdown", func() { dbDown.Store(false); time.Sleep(5 * time.Millisecond); reg.Shutdown() }, map[string]healthpb.HealthCheckResponse_ServingStatus{
			"": notServing, "orders.v1.Orders": notServing, "db": serving, "liveness": serving}},
	}
	for _, st := range steps {
		st.before()
		for svc, want := range st.want {
			resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil {
				t.Fatalf("%s %q: %v", st.name, svc, err)
			}
			if got := resp.GetStatus(); got != want {
				t.Errorf("%s %q: got %v, want %v", st.name, svc, got, want)
			}
		}
	}
	_, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope.v1.Nope"})
	if got := status.Code(err); got != codes.NotFound {
		t.Errorf("unknown service: got %v, want %v", got, codes.NotFound)
	}

	list, err := client.List(ctx, &healthpb.HealthListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"", "liveness", "readiness", "startup", "orders.v1.Orders", "db", "loop"} {
		if _, ok := list.GetStatuses()[n]; !ok {
			t.Errorf("List: got no %q, want it listed", n)
		}
	}
	if got := list.GetStatuses()[""].GetStatus(); got != notServing {
		t.Errorf("List \"\" after Shutdown: got %v, want %v", got, notServing)
	}
}

func TestWatch(t *testing.T) {
	reg, dbDown := newRegistry(t)
	_, client := serve(t, reg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: ""})
	if err != nil {
		t.Fatal(err)
	}
	next := func() healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetStatus()
	}
	if got, want := next(), healthpb.HealthCheckResponse_NOT_SERVING; got != want {
		t.Errorf("initial: got %v, want %v", got, want)
	}
	reg.MarkStarted()
	if got, want := next(), healthpb.HealthCheckResponse_SERVING; got != want {
		t.Errorf("after MarkStarted: got %v, want %v", got, want)
	}
	reg.Shutdown()
	if got, want := next(), healthpb.HealthCheckResponse_NOT_SERVING; got != want {
		t.Errorf("after Shutdown: got %v, want %v", got, want)
	}
	reg.Resume()
	if got, want := next(), healthpb.HealthCheckResponse_SERVING; got != want {
		t.Errorf("after Resume: got %v, want %v", got, want)
	}
	// An on-demand check failing with no other prober: Watch's own refresh sees it.
	dbDown.Store(true)
	start := time.Now()
	if got, want := next(), healthpb.HealthCheckResponse_NOT_SERVING; got != want {
		t.Errorf("after db down: got %v, want %v", got, want)
	}
	if d := time.Since(start); d > 3*grpchealth.WatchRefresh {
		t.Errorf("db down seen after %v, want within %v", d, 3*grpchealth.WatchRefresh)
	}

	unknown, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := unknown.Recv()
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVICE_UNKNOWN {
		t.Errorf("unknown: got %v %v, want SERVICE_UNKNOWN", resp.GetStatus(), err)
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("after cancel: got %v, want %v", err, codes.Canceled)
	}
}

// TestGRPCHealthProbe runs the standard client, grpc-health-probe v0.4.62, against a
// real server: SERVING, then NOT_SERVING after Shutdown.
func TestGRPCHealthProbe(t *testing.T) {
	bin := os.Getenv("PAVED_TEST_GRPC_HEALTH_PROBE")
	if bin == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_GRPC_HEALTH_PROBE is not set; want the path of grpc-health-probe v0.4.62")
		}
		t.Skip("PAVED_TEST_GRPC_HEALTH_PROBE is not set")
	}
	reg, _ := newRegistry(t)
	reg.MarkStarted()
	addr, _ := serve(t, reg)
	probe := func(args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, append([]string{"-addr=" + addr}, args...)...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		return 0, string(out)
	}
	if code, out := probe(); code != 0 || !strings.Contains(out, "status: SERVING") {
		t.Errorf("before Shutdown: got exit %d %q, want 0 status: SERVING", code, out)
	}
	if code, out := probe("-service=liveness"); code != 0 || !strings.Contains(out, "status: SERVING") {
		t.Errorf("liveness: got exit %d %q, want 0 status: SERVING", code, out)
	}
	reg.Shutdown()
	if code, out := probe(); code != 4 || !strings.Contains(out, `"NOT_SERVING"`) {
		t.Errorf("after Shutdown: got exit %d %q, want 4 NOT_SERVING", code, out)
	}
	if code, out := probe("-service=liveness"); code != 0 {
		t.Errorf("liveness after Shutdown: got exit %d %q, want 0", code, out)
	}
}

// TestAddService: a name added while the server answers follows readiness; it is
// NotFound before. Run with -race: AddService races Check.
func TestAddService(t *testing.T) {
	reg, _ := newRegistry(t)
	reg.MarkStarted()
	hs := grpchealth.New(reg)
	ctx := context.Background()
	req := &healthpb.HealthCheckRequest{Service: "grpc.testing.TestService"}
	if _, err := hs.Check(ctx, req); status.Code(err) != codes.NotFound {
		t.Fatalf("before AddService: got %v, want %v", err, codes.NotFound)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = hs.Check(ctx, req)
			_, _ = hs.List(ctx, &healthpb.HealthListRequest{})
		}
	}()
	hs.AddService("grpc.testing.TestService", "grpc.testing.Other")
	<-done
	for _, name := range []string{"grpc.testing.TestService", "grpc.testing.Other"} {
		resp, err := hs.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) got %v %v, want SERVING", name, resp.GetStatus(), err)
		}
	}
}

// TestCheckAnswersInsideProbeTimeout: a readiness check that hangs (10 s timeout)
// does not make the gRPC health Check miss a 1 s deadline, the default of
// grpc-health-probe's -rpc-timeout: it answers NOT_SERVING at the registry's probe wait
// (800 ms). Real clock: the deadline travels over the wire.
func TestCheckAnswersInsideProbeTimeout(t *testing.T) {
	reg, err := health.New(health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if err := reg.Register(health.Check{Name: "hang", Timeout: 10 * time.Second, Check: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}); err != nil {
		t.Fatal(err)
	}
	reg.MarkStarted()
	addr, client := serve(t, reg)
	// Connect first, as grpc-health-probe does under its own -connect-timeout: the 1 s
	// -rpc-timeout covers the RPC alone (an unknown service answers NotFound at once).
	if _, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "warm.up.Unknown"}); status.Code(err) != codes.NotFound {
		t.Fatalf("warm-up Check of an unknown service: got %v, want NotFound", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("got %v %v after %v, want NOT_SERVING inside the 1s deadline", resp.GetStatus(), err, time.Since(start))
	}
	if bin := os.Getenv("PAVED_TEST_GRPC_HEALTH_PROBE"); bin != "" {
		out, err := exec.Command(bin, "-addr="+addr, "-rpc-timeout=1s").CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 4 {
			t.Errorf("grpc-health-probe -rpc-timeout=1s: got %v %s, want exit 4 (NOT_SERVING), not a timeout", err, out)
		}
	}
}
