package telemetry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/go-kit/kit/endpoint"
	kitgrpc "github.com/go-kit/kit/transport/grpc"
	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func newTP(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

type failedResponse struct{ err error }

func (r failedResponse) Failed() error { return r.err }

func TestEndpointMiddleware(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		ep        endpoint.Endpoint
		wantError string
	}{
		{"ok", func(context.Context, any) (any, error) { return "ok", nil }, ""},
		{"error", func(context.Context, any) (any, error) { return nil, errBoom }, "boom"},
		{"business error", func(context.Context, any) (any, error) { return failedResponse{errors.New("out of stock")}, nil }, "out of stock"},
		{"failer without error", func(context.Context, any) (any, error) { return failedResponse{}, nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, rec := newTP(t)
			parentCtx, parent := tp.Tracer("t").Start(context.Background(), "parent")
			var inner trace.SpanContext
			ep := EndpointMiddleware(tp, "orders.create")(func(ctx context.Context, req any) (any, error) {
				inner = trace.SpanContextFromContext(ctx)
				return tt.ep(ctx, req)
			})
			_, err := ep(parentCtx, nil)
			parent.End()
			if (err != nil) != (tt.name == "error") {
				t.Fatalf("got error %v, want the endpoint's", err)
			}
			spans := rec.Ended()
			s := spans[0]
			if s.Name() != "orders.create" || s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanKind() != trace.SpanKindInternal {
				t.Errorf("got span %q parent %s kind %v, want orders.create child of %s, internal", s.Name(), s.Parent().SpanID(), s.SpanKind(), parent.SpanContext().SpanID())
			}
			if inner.SpanID() != s.SpanContext().SpanID() {
				t.Errorf("got endpoint context span %s, want the middleware's %s", inner.SpanID(), s.SpanContext().SpanID())
			}
			gotErr := ""
			if s.Status().Code == codes.Error {
				gotErr = s.Status().Description
				if len(s.Events()) != 1 || s.Events()[0].Name != "exception" {
					t.Errorf("got events %v, want one exception event", s.Events())
				}
			}
			if gotErr != tt.wantError {
				t.Errorf("got error status %q, want %q", gotErr, tt.wantError)
			}
		})
	}
	// A nil provider leaves the endpoint untouched.
	called := false
	ep := EndpointMiddleware(nil, "x")(func(ctx context.Context, _ any) (any, error) {
		called = !trace.SpanContextFromContext(ctx).IsValid()
		return nil, nil
	})
	if _, _ = ep(context.Background(), nil); !called {
		t.Error("got a span from a nil provider, want the endpoint called without one")
	}
}

// TestKitHTTPPropagation proves the go-kit HTTP client options make a client span and
// carry it over real HTTP to a go-kit server whose options make the server span its child.
func TestKitHTTPPropagation(t *testing.T) {
	tp, rec := newTP(t)
	prop := newPropagator(nil)
	server := kithttp.NewServer(
		EndpointMiddleware(tp, "echo")(func(ctx context.Context, req any) (any, error) { return "pong", nil }),
		kithttp.NopRequestDecoder,
		func(_ context.Context, w http.ResponseWriter, resp any) error {
			_, err := io.WriteString(w, resp.(string))
			return err
		},
		KitHTTPServerOptions(tp, prop)...,
	)
	mux := http.NewServeMux()
	mux.Handle("POST /echo/{id}", server)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	u, _ := url.Parse(srv.URL + "/echo/1")
	client := kithttp.NewClient("POST", u,
		func(context.Context, *http.Request, any) error { return nil },
		func(_ context.Context, resp *http.Response) (any, error) {
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		},
		append(KitHTTPClientOptions(tp, prop), kithttp.SetClient(&http.Client{Transport: transport}))...,
	)
	rootCtx, root := tp.Tracer("t").Start(context.Background(), "root")
	resp, err := client.Endpoint()(rootCtx, nil)
	root.End()
	if err != nil || resp != "pong" {
		t.Fatalf("got %v, %v, want pong", resp, err)
	}
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byName[s.Name()] = s
	}
	clientSpan, serverSpan, epSpan := byName["POST"], byName["POST /echo/{id}"], byName["echo"]
	if clientSpan == nil || serverSpan == nil || epSpan == nil {
		t.Fatalf("got spans %v, want POST, POST /echo/{id} and echo", byName)
	}
	if clientSpan.SpanKind() != trace.SpanKindClient || clientSpan.Parent().SpanID() != root.SpanContext().SpanID() {
		t.Errorf("got client span kind %v parent %s, want client child of root", clientSpan.SpanKind(), clientSpan.Parent().SpanID())
	}
	if serverSpan.SpanKind() != trace.SpanKindServer || serverSpan.Parent().SpanID() != clientSpan.SpanContext().SpanID() || !serverSpan.Parent().IsRemote() {
		t.Errorf("got server span kind %v parent %s, want server, remote child of the client span", serverSpan.SpanKind(), serverSpan.Parent().SpanID())
	}
	if epSpan.Parent().SpanID() != serverSpan.SpanContext().SpanID() {
		t.Errorf("got endpoint span parent %s, want the server span", epSpan.Parent().SpanID())
	}
	if a := attrs(serverSpan); a["http.response.status_code"] != "200" || a["http.route"] != "/echo/{id}" {
		t.Errorf("got server attributes %v, want status 200 and route", a)
	}
	if a := attrs(clientSpan); a["http.response.status_code"] != "200" {
		t.Errorf("got client attributes %v, want status 200", a)
	}
}

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

// TestKitGRPCPropagation proves trace context crosses a real gRPC call on loopback, both
// with go-kit's metadata functions alone and with the otelgrpc stats handlers.
func TestKitGRPCPropagation(t *testing.T) {
	for _, withHandlers := range []bool{false, true} {
		name := "kit metadata funcs"
		if withHandlers {
			name = "otelgrpc stats handlers"
		}
		t.Run(name, func(t *testing.T) {
			tp, rec := newTP(t)
			prop := newPropagator(nil)
			var serverOpts []grpc.ServerOption
			clientOpts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
			if withHandlers {
				serverOpts = append(serverOpts, grpc.StatsHandler(GRPCServerHandler(tp, prop)))
				clientOpts = append(clientOpts, grpc.WithStatsHandler(GRPCClientHandler(tp, prop)))
			}
			gs := grpc.NewServer(serverOpts...)
			kitServer := kitgrpc.NewServer(
				EndpointMiddleware(tp, "health.check")(func(ctx context.Context, _ any) (any, error) {
					return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
				}),
				func(_ context.Context, req any) (any, error) { return req, nil },
				func(_ context.Context, resp any) (any, error) { return resp, nil },
				kitgrpc.ServerBefore(KitGRPCServerBefore(prop)),
			)
			healthpb.RegisterHealthServer(gs, &healthServer{check: kitServer})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _ = gs.Serve(ln) }()
			defer func() { gs.Stop(); <-done }()

			conn, err := grpc.NewClient(ln.Addr().String(), clientOpts...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := kitgrpc.NewClient(conn, "grpc.health.v1.Health", "Check",
				func(_ context.Context, req any) (any, error) { return &healthpb.HealthCheckRequest{}, nil },
				func(_ context.Context, resp any) (any, error) { return resp, nil },
				healthpb.HealthCheckResponse{},
				kitgrpc.ClientBefore(KitGRPCClientBefore(prop)),
			)
			callCtx, call := tp.Tracer("t").Start(context.Background(), "call")
			resp, err := EndpointMiddleware(tp, "client.check", WithSpanKind(trace.SpanKindClient))(client.Endpoint())(callCtx, nil)
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
			rpcClient, rpcServer := byName["grpc.health.v1.Health/Check"], sdktrace.ReadOnlySpan(nil)
			for _, s := range rec.Ended() {
				if s.Name() == "grpc.health.v1.Health/Check" && s.SpanKind() == trace.SpanKindServer {
					rpcServer = s
				}
				if s.Name() == "grpc.health.v1.Health/Check" && s.SpanKind() == trace.SpanKindClient {
					rpcClient = s
				}
			}
			if rpcClient == nil || rpcServer == nil {
				t.Fatalf("got spans %v, want otelgrpc client and server spans", rec.Ended())
			}
			if rpcClient.Parent().SpanID() != clientSpan.SpanContext().SpanID() ||
				rpcServer.Parent().SpanID() != rpcClient.SpanContext().SpanID() ||
				serverEP.Parent().SpanID() != rpcServer.SpanContext().SpanID() {
				t.Errorf("got chain client.check %s -> rpc client (parent %s) %s -> rpc server (parent %s) %s -> health.check (parent %s), want each the child of the one before",
					clientSpan.SpanContext().SpanID(), rpcClient.Parent().SpanID(), rpcClient.SpanContext().SpanID(),
					rpcServer.Parent().SpanID(), rpcServer.SpanContext().SpanID(), serverEP.Parent().SpanID())
			}
		})
	}
}

// The server middleware skips extraction only when the W3C propagators would find
// nothing: no traceparent and no baggage header. Any other propagator is always asked.
func TestMayExtract(t *testing.T) {
	w3c := newPropagator(nil)
	tests := []struct {
		name   string
		prop   propagation.TextMapPropagator
		header http.Header
		want   bool
	}{
		{"no headers", w3c, http.Header{}, false},
		{"tracestate alone", w3c, http.Header{"Tracestate": {"a=b"}}, false},
		{"traceparent", w3c, http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}, true},
		{"baggage", w3c, http.Header{"Baggage": {"k=v"}}, true},
		{"baggage only propagator, traceparent sent", newPropagator([]string{PropagatorBaggage}), http.Header{"Traceparent": {"x"}}, false},
		{"other propagator", propagation.TraceContext{}, http.Header{}, true},
	}
	for _, tt := range tests {
		if got := mayExtract(tt.prop, tt.header); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
