package grpctransport

import (
	"context"

	kitgrpc "github.com/go-kit/kit/transport/grpc"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/metadata"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// KitServerBefore returns a go-kit gRPC ServerRequestFunc that puts the caller's trace
// context (unless the stats handler already made a server span) and request id from
// the incoming metadata into the context. Behind [NewServer]'s interceptors the
// request id is already there and is kept. nil prop means W3C tracecontext and baggage.
func KitServerBefore(prop propagation.TextMapPropagator) kitgrpc.ServerRequestFunc {
	trace := telemetry.KitGRPCServerBefore(prop)
	return func(ctx context.Context, md metadata.MD) context.Context {
		ctx = trace(ctx, md)
		if httptransport.RequestIDFrom(ctx) == "" {
			if v := md.Get(RequestIDKey); len(v) > 0 && validRequestID(v[0]) {
				ctx = httptransport.WithRequestID(ctx, v[0])
			}
		}
		return ctx
	}
}

// KitClientBefore returns a go-kit gRPC ClientRequestFunc that writes the trace context
// and the request id of the call's context into the outgoing metadata (go-kit's gRPC
// client replaces the outgoing metadata with the one its before functions build).
func KitClientBefore(prop propagation.TextMapPropagator) kitgrpc.ClientRequestFunc {
	trace := telemetry.KitGRPCClientBefore(prop)
	return func(ctx context.Context, md *metadata.MD) context.Context {
		ctx = trace(ctx, md)
		if id := httptransport.RequestIDFrom(ctx); id != "" {
			if *md == nil {
				*md = metadata.MD{}
			}
			md.Set(RequestIDKey, id)
		}
		return ctx
	}
}
