package grpctransport

import (
	"context"
	"net"
	"testing"
	"time"

	kitgrpc "github.com/go-kit/kit/transport/grpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// healthServer serves the gRPC health Check method through a go-kit gRPC server.
type healthServer struct {
	healthpb.UnimplementedHealthServer
	check kitgrpc.Handler
}

func (s *healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	_, resp, err := s.check.ServeGRPC(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*healthpb.HealthCheckResponse), nil
}

// TestKitTracePropagation proves trace context crosses a real gRPC call on loopback, both
// with go-kit's metadata functions alone and with Paved's stats handlers, whose spans
// carry the semantic conventions' attributes.
func TestKitTracePropagation(t *testing.T) {
	for _, withHandlers := range []bool{false, true} {
		name := "kit metadata funcs"
		if withHandlers {
			name = "stats handlers"
		}
		t.Run(name, func(t *testing.T) {
			tp, rec := newTP(t)
			prop := telemetry.DefaultPropagator()
			var serverOpts []grpc.ServerOption
			clientOpts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
			if withHandlers {
				serverOpts = append(serverOpts, grpc.StatsHandler(serverStatsHandler(tp, prop)))
			}
			gs := grpc.NewServer(serverOpts...)
			kitServer := kitgrpc.NewServer(
				httptransport.TraceEndpoint(tp, "health.check")(func(ctx context.Context, _ any) (any, error) {
					return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
				}),
				func(_ context.Context, req any) (any, error) { return req, nil },
				func(_ context.Context, resp any) (any, error) { return resp, nil },
				kitgrpc.ServerBefore(KitServerBefore(prop)),
			)
			healthpb.RegisterHealthServer(gs, &healthServer{check: kitServer})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _ = gs.Serve(ln) }()
			defer func() { gs.Stop(); <-done }()

			host, port, _ := net.SplitHostPort(ln.Addr().String())
			if withHandlers {
				clientOpts = append(clientOpts, grpc.WithStatsHandler(clientStatsHandler(tp, prop, host, port)))
			}
			conn, err := grpc.NewClient(ln.Addr().String(), clientOpts...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := kitgrpc.NewClient(conn, "grpc.health.v1.Health", "Check",
				func(_ context.Context, req any) (any, error) { return &healthpb.HealthCheckRequest{}, nil },
				func(_ context.Context, resp any) (any, error) { return resp, nil },
				healthpb.HealthCheckResponse{},
				kitgrpc.ClientBefore(KitClientBefore(prop)),
			)
			callCtx, call := tp.Tracer("t").Start(context.Background(), "call")
			resp, err := httptransport.TraceEndpoint(tp, "client.check", httptransport.WithSpanKind(trace.SpanKindClient))(client.Endpoint())(callCtx, nil)
			call.End()
			if err != nil || resp.(*healthpb.HealthCheckResponse).GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("got %v, %v, want SERVING", resp, err)
			}
			byName := map[string]sdktrace.ReadOnlySpan{}
			for _, s := range rec.Ended() {
				byName[s.Name()] = s
			}
			clientSpan, serverEP := byName["client.check"], byName["health.check"]
			if clientSpan == nil || serverEP == nil {
				t.Fatalf("got spans %v, want client.check and health.check", byName)
			}
			if clientSpan.SpanContext().TraceID() != serverEP.SpanContext().TraceID() {
				t.Fatalf("got traces %s and %s, want one", clientSpan.SpanContext().TraceID(), serverEP.SpanContext().TraceID())
			}
			if !withHandlers {
				if serverEP.Parent().SpanID() != clientSpan.SpanContext().SpanID() || !serverEP.Parent().IsRemote() {
					t.Errorf("got server span parent %s, want the remote client span %s", serverEP.Parent().SpanID(), clientSpan.SpanContext().SpanID())
				}
				return
			}
			// The server's stats handler ends its span after the answer is sent: wait
			// for it.
			for deadline := time.Now().Add(5 * time.Second); len(rec.Ended()) < 5 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			var rpcClient, rpcServer sdktrace.ReadOnlySpan
			for _, s := range rec.Ended() {
				if s.Name() == "grpc.health.v1.Health/Check" && s.SpanKind() == trace.SpanKindServer {
					rpcServer = s
				}
				if s.Name() == "grpc.health.v1.Health/Check" && s.SpanKind() == trace.SpanKindClient {
					rpcClient = s
				}
			}
			if rpcClient == nil || rpcServer == nil {
				var got []string
				for _, s := range rec.Ended() {
					got = append(got, s.Name()+"/"+s.SpanKind().String())
				}
				t.Fatalf("got spans %v, want the client and server spans of the RPC", got)
			}
			if rpcClient.Parent().SpanID() != clientSpan.SpanContext().SpanID() ||
				rpcServer.Parent().SpanID() != rpcClient.SpanContext().SpanID() ||
				serverEP.Parent().SpanID() != rpcServer.SpanContext().SpanID() {
				t.Errorf("got chain client.check %s -> rpc client (parent %s) %s -> rpc server (parent %s) %s -> health.check (parent %s), want each the child of the one before",
					clientSpan.SpanContext().SpanID(), rpcClient.Parent().SpanID(), rpcClient.SpanContext().SpanID(),
					rpcServer.Parent().SpanID(), rpcServer.SpanContext().SpanID(), serverEP.Parent().SpanID())
			}
			want := map[string]string{
				"rpc.system.name": "grpc", "rpc.method": "grpc.health.v1.Health/Check",
				"rpc.response.status_code": "OK", "server.address": "127.0.0.1", "server.port": port,
			}
			for _, s := range []sdktrace.ReadOnlySpan{rpcClient, rpcServer} {
				got := map[string]string{}
				for _, a := range s.Attributes() {
					got[string(a.Key)] = a.Value.String()
				}
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s span: got %s=%q, want %q (attributes %v)", s.SpanKind(), k, got[k], v, got)
					}
				}
				if _, ok := got["error.type"]; ok {
					t.Errorf("%s span: got error.type on an OK call", s.SpanKind())
				}
			}
			if got := attr(rpcServer, "client.address"); got != "127.0.0.1" {
				t.Errorf("server span: got client.address %q, want 127.0.0.1", got)
			}
		})
	}
}

func newTP(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}
