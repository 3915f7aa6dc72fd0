package grpctransport

import (
	"context"

	kitgrpc "github.com/go-kit/kit/transport/grpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/httptransport"
)

// KitServerBefore returns a go-kit gRPC ServerRequestFunc that puts the caller's trace
// context (unless the stats handler already made a server span) and request id from
// the incoming metadata into the context. Behind [NewServer]'s interceptors the
// request id is already there and is kept. nil prop means W3C tracecontext and baggage.
func KitServerBefore(prop propagation.TextMapPropagator) kitgrpc.ServerRequestFunc {
	prop = telemetry.OrDefaultPropagator(prop)
	return func(ctx context.Context, md metadata.MD) context.Context {
		if !trace.SpanContextFromContext(ctx).IsValid() {
			// No stats handler made a server span (a child of the caller's): take the
			// caller's context, so an endpoint span becomes its child.
			ctx = prop.Extract(ctx, metadataCarrier(md))
		}
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
	prop = telemetry.OrDefaultPropagator(prop)
	return func(ctx context.Context, md *metadata.MD) context.Context {
		if *md == nil {
			*md = metadata.MD{}
		}
		telemetry.Inject(ctx, prop, metadataCarrier(*md))
		if id := httptransport.RequestIDFrom(ctx); id != "" {
			md.Set(RequestIDKey, id)
		}
		return ctx
	}
}
