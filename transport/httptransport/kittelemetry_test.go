package httptransport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"
	"github.com/paved-road/paved/telemetry"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
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

func TestTraceEndpoint(t *testing.T) {
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
			ep := TraceEndpoint(tp, "orders.create")(func(ctx context.Context, req any) (any, error) {
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
	ep := TraceEndpoint(nil, "x")(func(ctx context.Context, _ any) (any, error) {
		called = !trace.SpanContextFromContext(ctx).IsValid()
		return nil, nil
	})
	if _, _ = ep(context.Background(), nil); !called {
		t.Error("got a span from a nil provider, want the endpoint called without one")
	}
}

// TestKitTelemetryPropagation proves the go-kit HTTP client options make a client span and
// carry it over real HTTP to a go-kit server whose options make the server span its child.
func TestKitTelemetryPropagation(t *testing.T) {
	tp, rec := newTP(t)
	prop := telemetry.DefaultPropagator()
	server := kithttp.NewServer(
		TraceEndpoint(tp, "echo")(func(ctx context.Context, req any) (any, error) { return "pong", nil }),
		kithttp.NopRequestDecoder,
		func(_ context.Context, w http.ResponseWriter, resp any) error {
			_, err := io.WriteString(w, resp.(string))
			return err
		},
		KitServerTelemetry(tp, prop)...,
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
		append(KitClientTelemetry(tp, prop), kithttp.SetClient(&http.Client{Transport: transport}))...,
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
	if a := attrs(clientSpan); a["http.response.status_code"] != "200" || a["server.address"] != "127.0.0.1" || a["server.port"] != u.Port() {
		t.Errorf("got client attributes %v, want status 200, server.address 127.0.0.1 and server.port %s", a, u.Port())
	}
}
