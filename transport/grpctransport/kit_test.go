package grpctransport_test

import (
	"context"
	"testing"

	kitgrpc "github.com/go-kit/kit/transport/grpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/httptransport"
)

// go-kit's gRPC client and server carry the trace context and the request id through
// KitClientBefore and KitServerBefore, over a real connection.
func TestKitHelpersPropagate(t *testing.T) {
	tests := []struct {
		name  string
		paved bool // behind NewServer's interceptors, or a bare go-kit server
	}{{"paved server", true}, {"kit before only", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type seen struct {
				trace trace.TraceID
				id    string
			}
			got := make(chan seen, 1)
			kitServer := kitgrpc.NewServer(
				func(ctx context.Context, _ any) (any, error) {
					got <- seen{trace.SpanContextFromContext(ctx).TraceID(), httptransport.RequestIDFrom(ctx)}
					return &testgrpc.SimpleResponse{}, nil
				},
				func(_ context.Context, req any) (any, error) { return req, nil },
				func(_ context.Context, resp any) (any, error) { return resp, nil },
				kitgrpc.ServerBefore(grpctransport.KitServerBefore(nil)),
			)
			svc := &testService{unary: func(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
				_, resp, err := kitServer.ServeGRPC(ctx, req)
				if err != nil {
					return nil, err
				}
				return resp.(*testgrpc.SimpleResponse), nil
			}}
			var addr string
			if tt.paved {
				addr = startServer(t, grpctransport.ServerOptions{}, svc).addr
			} else {
				addr = startBareServer(t, svc)
			}
			// A plain connection: only KitClientBefore carries trace and request id.
			conn := (&running{addr: addr}).dial(t)
			call := kitgrpc.NewClient(conn, "grpc.testing.TestService", "UnaryCall",
				func(_ context.Context, req any) (any, error) { return req, nil },
				func(_ context.Context, resp any) (any, error) { return resp, nil },
				&testgrpc.SimpleResponse{},
				kitgrpc.ClientBefore(grpctransport.KitClientBefore(nil)),
			).Endpoint()

			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
			defer tp.Shutdown(context.Background())
			ctx, span := tp.Tracer("test").Start(t.Context(), "caller")
			defer span.End()
			if _, err := call(httptransport.WithRequestID(ctx, "kit-1"), &testgrpc.SimpleRequest{}); err != nil {
				t.Fatal(err)
			}
			s := <-got
			if s.trace != span.SpanContext().TraceID() || s.id != "kit-1" {
				t.Errorf("got trace %v request id %q, want %v and kit-1", s.trace, s.id, span.SpanContext().TraceID())
			}
		})
	}
}
