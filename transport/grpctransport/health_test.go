package grpctransport_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/health/grpchealth"
	"github.com/paved-road/paved/transport/grpctransport"
)

// Every service registered on a server whose health comes from a registry (as
// service.GRPC builds it) answers the readiness of the whole server, whether it was
// registered through the Server or on the underlying *grpc.Server; an unknown name
// stays NotFound. Checked with the gRPC health client and, when
// PAVED_TEST_GRPC_HEALTH_PROBE names it, the standard grpc-health-probe.
func TestHealthAnswersRegisteredServices(t *testing.T) {
	reg, err := health.New(health.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := grpctransport.NewServer(grpctransport.ServerOptions{Health: grpchealth.New(reg)})
	if err != nil {
		t.Fatal(err)
	}
	testgrpc.RegisterTestServiceServer(s, &testService{})
	testgrpc.RegisterReconnectServiceServer(s.GRPC(), testgrpc.UnimplementedReconnectServiceServer{})
	r := &running{srv: s, addr: l.Addr().String(), served: make(chan error, 1)}
	go func() { r.served <- s.Serve(l) }()
	defer r.stop(t)
	client := healthpb.NewHealthClient(r.dial(t))

	probeBin := os.Getenv("PAVED_TEST_GRPC_HEALTH_PROBE")
	// probe returns grpc-health-probe's exit code: 0 SERVING, 3 a failed RPC (such as
	// NotFound), 4 NOT_SERVING.
	probe := func(service string) int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, probeBin, "-addr="+r.addr, "-service="+service).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%s: %v %s", probeBin, err, out)
		}
		return 0
	}
	const (
		serving    = healthpb.HealthCheckResponse_SERVING
		notServing = healthpb.HealthCheckResponse_NOT_SERVING
	)
	names := []string{"", "grpc.testing.TestService", "grpc.testing.ReconnectService"}
	steps := []struct {
		name   string
		before func()
		want   healthpb.HealthCheckResponse_ServingStatus
		exit   int
	}{
		{"starting", func() {}, notServing, 4},
		{"started", reg.MarkStarted, serving, 0},
		{"shutting down", reg.Shutdown, notServing, 4},
	}
	for _, st := range steps {
		st.before()
		for _, name := range names {
			resp, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: name})
			if err != nil || resp.GetStatus() != st.want {
				t.Errorf("%s: Check(%q) got %v %v, want %v", st.name, name, resp.GetStatus(), err, st.want)
			}
			if probeBin != "" {
				if got := probe(name); got != st.exit {
					t.Errorf("%s: grpc-health-probe -service=%q exit got %d, want %d", st.name, name, got, st.exit)
				}
			}
		}
		_, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{Service: "grpc.testing.Nope"})
		if got := status.Code(err); got != codes.NotFound {
			t.Errorf("%s: unknown service got %v, want %v", st.name, got, codes.NotFound)
		}
		if probeBin != "" {
			if got := probe("grpc.testing.Nope"); got != 3 {
				t.Errorf("%s: grpc-health-probe of an unknown service exit got %d, want 3", st.name, got)
			}
		}
	}
	if probeBin == "" {
		t.Log("PAVED_TEST_GRPC_HEALTH_PROBE is not set: grpc-health-probe not run")
	}
}
