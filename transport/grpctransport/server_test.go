package grpctransport_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/internal/testenv"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/httptransport"
)

// Every interceptor through a real server on loopback: request id in and out, a panic
// answered Internal without its text (and the next call on the same connection
// served), metrics by service and method, health and reflection registered.
func TestServerOverLoopback(t *testing.T) {
	var logs testenv.Buffer
	reg := prometheus.NewPedanticRegistry()
	svc := &testService{unary: func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
		if string(req.GetPayload().GetBody()) == "panic" {
			panic("secret state")
		}
		return &testgrpc.SimpleResponse{Username: httptransport.RequestIDFrom(ctx)}, nil
	}}
	srv := startServer(t, grpctransport.ServerOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registerer: reg}, svc)
	in := static.NewInstancer([]discovery.Instance{srv.instance("a")})
	defer in.Stop()
	_, client := newTestClient(t, grpctransport.WithInstancer(in))
	ctx := t.Context()

	var header metadata.MD
	resp, err := client.UnaryCall(httptransport.WithRequestID(ctx, "req-9"), &testgrpc.SimpleRequest{}, grpc.Header(&header))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Username != "req-9" || strings.Join(header.Get(grpctransport.RequestIDKey), "") != "req-9" {
		t.Errorf("request id: got %q in handler, %q in header, want req-9 in both", resp.Username, header.Get(grpctransport.RequestIDKey))
	}
	resp, err = client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
	if err != nil || len(resp.Username) != 32 {
		t.Errorf("generated request id: got %q %v, want 32 hex characters", resp.GetUsername(), err)
	}

	_, err = client.UnaryCall(ctx, &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte("panic")}})
	if st := status.Convert(err); st.Code() != codes.Internal || strings.Contains(st.Message(), "secret") {
		t.Errorf("panic: got %v, want Internal without the panic text", err)
	}
	if !strings.Contains(logs.String(), "secret state") {
		t.Errorf("log: got %s, want the panic", logs.String())
	}
	if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil {
		t.Errorf("call after the panic: got %v, want success", err)
	}

	if n := testutil.CollectAndCount(reg, grpctransport.MetricServerDuration); n != 2 {
		t.Errorf("series: got %d, want 2 (OK and INTERNAL)", n)
	}

	health := healthpb.NewHealthClient(srv.dial(t))
	for _, name := range []string{"", "grpc.testing.TestService"} {
		hr, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil || hr.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health %q: got %v %v, want SERVING", name, hr.GetStatus(), err)
		}
	}
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("health of an unknown service: got %v, want NotFound", err)
	}
	refl, err := reflectionpb.NewServerReflectionClient(srv.dial(t)).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := refl.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "grpc.testing.TestService") || !strings.Contains(got, "grpc.health.v1.Health") {
		t.Errorf("reflection services: got %s, want TestService and Health", got)
	}
	_ = refl.CloseSend()
}

// A unary call from a client through service A to service B: B sees a deadline no later
// than the caller's, and one trace runs from the caller's span through A's and B's
// server spans.
func TestDeadlineAndTraceAcrossTwoServices(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	var bDeadline atomic.Value
	var bTrace atomic.Value
	b := startServer(t, grpctransport.ServerOptions{TracerProvider: tp}, &testService{id: "b",
		unary: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			dl, _ := ctx.Deadline()
			bDeadline.Store(dl)
			bTrace.Store(trace.SpanContextFromContext(ctx).TraceID())
			return &testgrpc.SimpleResponse{ServerId: "b", Username: httptransport.RequestIDFrom(ctx)}, nil
		}})
	bc, err := grpctransport.NewClient("inventory", grpctransport.WithTarget(b.addr), grpctransport.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	toB := testgrpc.NewTestServiceClient(bc.Conn())
	a := startServer(t, grpctransport.ServerOptions{TracerProvider: tp}, &testService{id: "a",
		unary: func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			return toB.UnaryCall(ctx, req) // the handler's context carries deadline, trace and request id on
		}})
	_, toA := newTestClient(t, grpctransport.WithTarget(a.addr), grpctransport.WithTracerProvider(tp))

	ctx, root := tp.Tracer("test").Start(t.Context(), "caller")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	callerDeadline, _ := ctx.Deadline()
	resp, err := toA.UnaryCall(httptransport.WithRequestID(ctx, "req-ab"), &testgrpc.SimpleRequest{})
	root.End()
	if err != nil {
		t.Fatal(err)
	}
	if resp.ServerId != "b" || resp.Username != "req-ab" {
		t.Errorf("answer: got server %q request id %q, want b and req-ab", resp.ServerId, resp.Username)
	}
	dl, _ := bDeadline.Load().(time.Time)
	// gRPC sends the time left (grpc-timeout), so B's deadline is the caller's give or
	// take the time on the wire; it must not be the server's own default (none here).
	if diff := dl.Sub(callerDeadline); dl.IsZero() || diff > 50*time.Millisecond || diff < -time.Second {
		t.Errorf("deadline at B: got %v, want the caller's %v within the time on the wire", dl, callerDeadline)
	}
	if got := bTrace.Load(); got != root.SpanContext().TraceID() {
		t.Errorf("trace at B: got %v, want %v", got, root.SpanContext().TraceID())
	}
	// Caller → client span → A's server span → client span → B's server span.
	// A server ends its span after sending the status, so the caller can be back first:
	// wait for the five spans.
	for deadline := time.Now().Add(5 * time.Second); len(rec.Ended()) < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	spans := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.SpanContext().SpanID()] = s
	}
	// The longest chain up from a server span is the one from B's (spans end in no
	// fixed order across the two servers).
	var kinds []string
	for _, s := range rec.Ended() {
		if s.SpanKind() != trace.SpanKindServer {
			continue
		}
		var chain []string
		for cur := s; cur != nil; cur = spans[cur.Parent().SpanID()] {
			chain = append(chain, cur.SpanKind().String())
			if cur.SpanContext().TraceID() != root.SpanContext().TraceID() || !cur.Parent().IsValid() {
				break
			}
		}
		if len(chain) > len(kinds) {
			kinds = chain
		}
	}
	if got := strings.Join(kinds, "<"); got != "server<client<server<client<internal" {
		t.Errorf("span chain from B up: got %s, want server<client<server<client<internal", got)
	}
}

// Shutdown lets an in-flight call finish and turns health NOT_SERVING; when its
// context ends first, it stops the server at once.
func TestShutdownFinishesInFlightCalls(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := startServer(t, grpctransport.ServerOptions{}, &testService{
		unary: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			started <- struct{}{}
			select {
			case <-release:
				return &testgrpc.SimpleResponse{ServerId: "done"}, nil
			case <-ctx.Done():
				return nil, status.FromContextError(ctx.Err()).Err()
			}
		}})
	conn := srv.dial(t)
	client := testgrpc.NewTestServiceClient(conn)
	watch, err := healthpb.NewHealthClient(conn).Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if hr, err := watch.Recv(); err != nil || hr.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health watch: got %v %v, want SERVING", hr.GetStatus(), err)
	}

	callErr := make(chan error, 1)
	var resp *testgrpc.SimpleResponse
	go func() {
		var err error
		resp, err = client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{})
		callErr <- err
	}()
	<-started
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- srv.srv.Shutdown(t.Context()) }()
	if hr, err := watch.Recv(); err != nil || hr.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health watch after Shutdown: got %v %v, want NOT_SERVING", hr.GetStatus(), err)
	}
	select {
	case err := <-shutdownErr:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-callErr; err != nil || resp.ServerId != "done" {
		t.Errorf("in-flight call: got %v %v, want it finished", resp, err)
	}
	if err := <-shutdownErr; err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
}

func TestShutdownStopsWhenContextEnds(t *testing.T) {
	started := make(chan struct{}, 1)
	srv := startServer(t, grpctransport.ServerOptions{}, &testService{
		unary: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			started <- struct{}{}
			<-ctx.Done() // a call that only ends when cancelled
			return nil, status.FromContextError(ctx.Err()).Err()
		}})
	client := testgrpc.NewTestServiceClient(srv.dial(t))
	callErr := make(chan error, 1)
	go func() {
		_, err := client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{})
		callErr <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := srv.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: got %v, want context.DeadlineExceeded", err)
	}
	if err := <-callErr; err == nil {
		t.Error("call cut by Stop: got nil error, want one")
	}
}

// The two-service test for gRPC: the client finds two instances through the paved
// resolver; one is killed mid-traffic and every call succeeds under the policy.
func TestClientFailoverThroughResolver(t *testing.T) {
	a := startServer(t, grpctransport.ServerOptions{}, &testService{id: "a"})
	b := startServer(t, grpctransport.ServerOptions{}, &testService{id: "b"})
	in := static.NewInstancer([]discovery.Instance{a.instance("a"), b.instance("b")})
	defer in.Stop()
	policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{
		Retry: resilience.RetryConfig{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, client := newTestClient(t, grpctransport.WithInstancer(in), grpctransport.WithPolicy(policy))
	seen := map[string]int{}
	for range 20 {
		resp, err := client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{})
		if err != nil {
			t.Fatal(err)
		}
		seen[resp.ServerId]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("calls per instance: got %v, want both used (round robin)", seen)
	}

	var failed, total atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				total.Add(1)
				if _, err := client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{}); err != nil {
					failed.Add(1)
					t.Errorf("call: got %v, want success", err)
				}
			}
		})
	}
	for total.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	a.stop(t) // kill one instance mid-traffic
	before := total.Load()
	for total.Load() < before+300 {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("failed calls: got %d of %d, want 0", n, total.Load())
	}
	for range 10 {
		resp, err := client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{})
		if err != nil || resp.ServerId != "b" {
			t.Fatalf("after the kill: got %v %v, want b", resp.GetServerId(), err)
		}
	}
}

// What the policy counts: Unavailable fails and is retried, NotFound is the dependency
// answering (a success, no retry), the caller gets the call's own status.
func TestPolicyUnaryClassification(t *testing.T) {
	var calls atomic.Int64
	srv := startServer(t, grpctransport.ServerOptions{}, &testService{
		unary: func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
			calls.Add(1)
			if s := req.GetResponseStatus(); s != nil {
				return nil, status.Error(codes.Code(s.Code), s.Message)
			}
			return &testgrpc.SimpleResponse{}, nil
		}})
	tests := []struct {
		code                  codes.Code
		wantCalls             int64
		wantFailures, wantOKs uint32
	}{
		{codes.NotFound, 1, 0, 1},
		{codes.InvalidArgument, 1, 0, 1},
		{codes.Internal, 1, 0, 1},
		{codes.Unavailable, 3, 3, 0},
		{codes.ResourceExhausted, 3, 3, 0},
		{codes.DeadlineExceeded, 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{
				Retry:   resilience.RetryConfig{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
				Breaker: resilience.BreakerConfig{ConsecutiveFailures: 100},
			})
			if err != nil {
				t.Fatal(err)
			}
			_, client := newTestClient(t, grpctransport.WithTarget(srv.addr), grpctransport.WithPolicy(policy))
			calls.Store(0)
			_, err = client.UnaryCall(t.Context(), &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(tt.code), Message: "m"}})
			if st := status.Convert(err); st.Code() != tt.code || st.Message() != "m" {
				t.Errorf("error: got %v, want the call's own %v", err, tt.code)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("attempts: got %d, want %d", n, tt.wantCalls)
			}
			_, ok, failures, _ := policy.Breaker().Counts()
			if failures != tt.wantFailures || ok != tt.wantOKs {
				t.Errorf("breaker counts: got %d successes %d failures, want %d and %d", ok, failures, tt.wantOKs, tt.wantFailures)
			}
		})
	}
}

func TestNewClientRejectsBadInput(t *testing.T) {
	in := static.NewInstancer(nil)
	defer in.Stop()
	tests := []struct {
		name, dep string
		opts      []grpctransport.ClientOption
		want      string
	}{
		{"bad name", "Inventory", []grpctransport.ClientOption{grpctransport.WithTarget("127.0.0.1:1")}, `DNS label`},
		{"no target", "inventory", nil, "WithInstancer or WithTarget is required"},
		{"both", "inventory", []grpctransport.ClientOption{grpctransport.WithTarget("127.0.0.1:1"), grpctransport.WithInstancer(in)}, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := grpctransport.NewClient(tt.dep, tt.opts...)
			if err == nil {
				c.Close()
				t.Fatalf("got nil error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestClientRecordsDependency(t *testing.T) {
	policy, err := resilience.NewPolicy("inventory", resilience.PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var deps httptransport.Dependencies
	c, _ := newTestClient(t, grpctransport.WithTarget("127.0.0.1:1"), grpctransport.WithPolicy(policy), grpctransport.WithRecorder(deps.Record))
	want := httptransport.Dependency{Name: "inventory", Protocol: "grpc", Paved: true, Breaker: true, Timeout: true}
	if got := deps.List(); len(got) != 1 || !reflect.DeepEqual(got[0], want) || !reflect.DeepEqual(c.Dependency(), want) {
		t.Errorf("got %+v, want [%+v]", got, want)
	}
}

// WithAPI names the dependency's APIs the client calls; a bad name fails NewClient.
func TestClientRecordsAPIs(t *testing.T) {
	var deps httptransport.Dependencies
	newTestClient(t, grpctransport.WithTarget("127.0.0.1:1"), grpctransport.WithAPI("shop.inventory.v1.Inventory"), grpctransport.WithRecorder(deps.Record))
	if got := deps.List(); len(got) != 1 || !slices.Equal(got[0].APIs, []string{"shop.inventory.v1.Inventory"}) {
		t.Errorf("got %+v, want the API recorded", got)
	}
	_, err := grpctransport.NewClient("inventory", grpctransport.WithTarget("127.0.0.1:1"), grpctransport.WithAPI("bad name"))
	if err == nil || !strings.Contains(err.Error(), `WithAPI: API name must be`) || !strings.Contains(err.Error(), `"bad name"`) {
		t.Errorf("got %v, want the bad name refused", err)
	}
}

// TestServeAfterShutdownReturnsNil: a service stopped right after it started may shut
// the server down before Serve runs; that is a clean stop, not an error (grpc-go says
// ErrServerStopped, which made the service's Run fail).
func TestServeAfterShutdownReturnsNil(t *testing.T) {
	srv, err := grpctransport.NewServer(grpctransport.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); err != nil {
		t.Errorf("Serve after Shutdown: got %v, want nil", err)
	}
	if _, err := l.Accept(); err == nil {
		t.Error("the listener is still open after Serve returned")
	}
}

// TestSpanStatusAndRootNeverSampled proves what the server and client spans say of a
// failed call (the status code's name, error.type and an error status on the side whose
// error it is: a server's for INTERNAL, a client's for any code but OK), and that a
// server whose provider is declared never to sample a root starts no span for an
// unsampled call while a sampled caller still gets one.
func TestSpanStatusAndRootNeverSampled(t *testing.T) {
	tests := []struct {
		code                     codes.Code
		serverError, clientError bool
	}{
		{codes.OK, false, false},
		{codes.NotFound, false, true},
		{codes.Internal, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			defer func() { _ = tp.Shutdown(context.Background()) }()
			srv := startServer(t, grpctransport.ServerOptions{TracerProvider: tp}, &testService{
				unary: func(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
					if tt.code == codes.OK {
						return &testgrpc.SimpleResponse{}, nil
					}
					return nil, status.Error(tt.code, "no")
				}})
			_, client := newTestClient(t, grpctransport.WithTarget(srv.addr), grpctransport.WithTracerProvider(tp))
			ctx, cancel := contextWithTimeout(t, 5*time.Second)
			defer cancel()
			if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != tt.code {
				t.Fatalf("got %v, want %v", err, tt.code)
			}
			for deadline := time.Now().Add(5 * time.Second); len(rec.Ended()) < 2 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			if len(rec.Ended()) != 2 {
				t.Fatalf("got %d spans, want 2", len(rec.Ended()))
			}
			for _, s := range rec.Ended() {
				wantErr := tt.clientError
				if s.SpanKind() == trace.SpanKindServer {
					wantErr = tt.serverError
				}
				var status, errType string
				for _, a := range s.Attributes() {
					switch a.Key {
					case "rpc.response.status_code":
						status = a.Value.AsString()
					case "error.type":
						errType = a.Value.AsString()
					}
				}
				if status != grpctransport.CodeName(tt.code) {
					t.Errorf("%s span: got rpc.response.status_code %q, want %q", s.SpanKind(), status, grpctransport.CodeName(tt.code))
				}
				if gotErr := errType != "" || s.Status().Code == otelcodes.Error; gotErr != wantErr || (wantErr && errType != grpctransport.CodeName(tt.code)) {
					t.Errorf("%s span: got error.type %q, status %v, want an error: %v", s.SpanKind(), errType, s.Status(), wantErr)
				}
			}
		})
	}

	t.Run("root never sampled", func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())), sdktrace.WithSpanProcessor(rec))
		defer func() { _ = sdk.Shutdown(context.Background()) }()
		var seen atomic.Value
		srv := startServer(t, grpctransport.ServerOptions{TracerProvider: telemetry.DeclareRootNeverSampled(sdk)}, &testService{
			unary: func(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
				seen.Store(trace.SpanContextFromContext(ctx))
				return &testgrpc.SimpleResponse{}, nil
			}})
		conn := srv.dial(t)
		client := testgrpc.NewTestServiceClient(conn)
		ctx, cancel := contextWithTimeout(t, 5*time.Second)
		defer cancel()
		if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil {
			t.Fatal(err)
		}
		if sc := seen.Load().(trace.SpanContext); sc.IsValid() {
			t.Errorf("unsampled call: handler got span context %v, want none", sc)
		}
		// A sampled caller: the server span is still made, a child of the caller's.
		sampled := metadata.AppendToOutgoingContext(ctx, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if _, err := client.UnaryCall(sampled, &testgrpc.SimpleRequest{}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); len(rec.Ended()) < 1 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if n := len(rec.Ended()); n != 1 {
			t.Fatalf("got %d spans, want 1 (the sampled caller's)", n)
		}
		if got := rec.Ended()[0].Parent().SpanID().String(); got != "00f067aa0ba902b7" {
			t.Errorf("server span parent: got %s, want the caller's 00f067aa0ba902b7", got)
		}
	})
}
