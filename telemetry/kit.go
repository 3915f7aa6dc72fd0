package telemetry

import (
	"context"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	kitgrpc "github.com/go-kit/kit/transport/grpc"
	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// EndpointOption customizes [EndpointMiddleware].
type EndpointOption func(*endpointOptions)

type endpointOptions struct {
	kind trace.SpanKind
}

// WithSpanKind sets the kind of the endpoint spans; the default is internal (the
// transport's span is the server or client span).
func WithSpanKind(k trace.SpanKind) EndpointOption {
	return func(o *endpointOptions) { o.kind = k }
}

// EndpointMiddleware returns a go-kit middleware that runs every call of the endpoint in
// a span named operation, a child of the span in the call's context. An error returned
// by the endpoint, or a business error from a response implementing go-kit's
// endpoint.Failer, is recorded on the span and sets its status to Error. A nil tp means
// the middleware passes calls through untouched.
func EndpointMiddleware(tp trace.TracerProvider, operation string, opts ...EndpointOption) endpoint.Middleware {
	o := endpointOptions{kind: trace.SpanKindInternal}
	for _, opt := range opts {
		opt(&o)
	}
	if tp == nil {
		return func(next endpoint.Endpoint) endpoint.Endpoint { return next }
	}
	tracer := tp.Tracer(ScopeName)
	startOpts := []trace.SpanStartOption{trace.WithSpanKind(o.kind)}
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (response any, err error) {
			ctx, span := tracer.Start(ctx, operation, startOpts...)
			defer func() {
				if err == nil {
					if f, ok := response.(endpoint.Failer); ok && f.Failed() != nil {
						span.RecordError(f.Failed())
						span.SetStatus(codes.Error, f.Failed().Error())
					}
				} else {
					span.RecordError(err)
					span.SetStatus(codes.Error, err.Error())
				}
				span.End()
			}()
			return next(ctx, request)
		}
	}
}

// KitHTTPServerOptions returns go-kit HTTP server options that give every request a
// server span: ServerBefore extracts the caller's trace context and starts the span
// (named "METHOD /route" when the kit server sits behind a ServeMux pattern), and
// ServerFinalizer sets the status code and ends it. Use these or
// [HTTPServerMiddleware] around the mux, not both (that would make two server spans).
// A nil tp still extracts the caller's context, so logs and outgoing calls keep it.
func KitHTTPServerOptions(tp trace.TracerProvider, prop propagation.TextMapPropagator) []kithttp.ServerOption {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	if prop == nil {
		prop = newPropagator(nil)
	}
	tracer := tp.Tracer(ScopeName)
	before := func(ctx context.Context, r *http.Request) context.Context {
		if sc := trace.SpanContextFromContext(ctx); !sc.IsValid() || sc.IsRemote() {
			ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		method := NormalizeMethod(r.Method)
		name := spanMethod(method)
		if r.Pattern != "" {
			name += " " + RouteFromPattern(r.Pattern)
		}
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		if span.IsRecording() {
			span.SetAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(r.URL.Path))
			if r.Pattern != "" {
				span.SetAttributes(semconv.HTTPRoute(RouteFromPattern(r.Pattern)))
			}
		}
		return ctx
	}
	finalizer := func(ctx context.Context, code int, _ *http.Request) {
		span := trace.SpanFromContext(ctx)
		span.SetAttributes(semconv.HTTPResponseStatusCode(code))
		if code >= 500 {
			span.SetStatus(codes.Error, "")
		}
		span.End()
	}
	return []kithttp.ServerOption{kithttp.ServerBefore(before), kithttp.ServerFinalizer(finalizer)}
}

// KitHTTPClientOptions returns go-kit HTTP client options that give every call a client
// span, a child of the span in the call's context, and inject its trace context into the
// request headers. The span records the status code and the transport error, if any.
// (For a plain *http.Client, use [HTTPClientTransport] instead.)
func KitHTTPClientOptions(tp trace.TracerProvider, prop propagation.TextMapPropagator) []kithttp.ClientOption {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	if prop == nil {
		prop = newPropagator(nil)
	}
	tracer := tp.Tracer(ScopeName)
	before := func(ctx context.Context, r *http.Request) context.Context {
		method := NormalizeMethod(r.Method)
		ctx, span := tracer.Start(ctx, spanMethod(method), trace.WithSpanKind(trace.SpanKindClient))
		if span.IsRecording() {
			span.SetAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.ServerAddress(r.URL.Hostname()), semconv.URLFull(r.URL.Redacted()))
		}
		prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
		return ctx
	}
	after := func(ctx context.Context, resp *http.Response) context.Context {
		span := trace.SpanFromContext(ctx)
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if resp.StatusCode >= 400 {
			span.SetStatus(codes.Error, "")
		}
		return ctx
	}
	finalizer := func(ctx context.Context, err error) {
		span := trace.SpanFromContext(ctx)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	return []kithttp.ClientOption{kithttp.ClientBefore(before), kithttp.ClientAfter(after), kithttp.ClientFinalizer(finalizer)}
}

// metadataCarrier adapts gRPC metadata to propagation.TextMapCarrier.
type metadataCarrier metadata.MD

func (c metadataCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c metadataCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// KitGRPCServerBefore returns a go-kit gRPC ServerRequestFunc that puts the caller's
// trace context from the incoming metadata into the context, for servers without the
// [GRPCServerHandler] stats handler; an [EndpointMiddleware] then makes its span a child
// of the caller's. When the context already holds a span (the stats handler's server
// span), it is kept. nil prop means W3C tracecontext and baggage.
func KitGRPCServerBefore(prop propagation.TextMapPropagator) kitgrpc.ServerRequestFunc {
	if prop == nil {
		prop = newPropagator(nil)
	}
	return func(ctx context.Context, md metadata.MD) context.Context {
		if trace.SpanContextFromContext(ctx).IsValid() {
			return ctx // a stats handler already made the server span, a child of the caller's
		}
		return prop.Extract(ctx, metadataCarrier(md))
	}
}

// KitGRPCClientBefore returns a go-kit gRPC ClientRequestFunc that injects the trace
// context of the span in the call's context into the outgoing metadata. (go-kit's gRPC
// client replaces the outgoing metadata with the one built by its before functions, so
// this is the way to propagate through it without a stats handler.)
func KitGRPCClientBefore(prop propagation.TextMapPropagator) kitgrpc.ClientRequestFunc {
	if prop == nil {
		prop = newPropagator(nil)
	}
	return func(ctx context.Context, md *metadata.MD) context.Context {
		if *md == nil {
			*md = metadata.MD{}
		}
		prop.Inject(ctx, metadataCarrier(*md))
		return ctx
	}
}

// GRPCServerHandler returns the contrib otelgrpc stats handler that gives every RPC a
// server span, for grpc.NewServer(grpc.StatsHandler(...)). Its OpenTelemetry metrics are
// off; use [RPCServerMetrics] for Prometheus.
func GRPCServerHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator) stats.Handler {
	return otelgrpc.NewServerHandler(grpcOptions(tp, prop)...)
}

// GRPCClientHandler returns the contrib otelgrpc stats handler that gives every call a
// client span and injects its context, for grpc.NewClient(target,
// grpc.WithStatsHandler(...)).
func GRPCClientHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator) stats.Handler {
	return otelgrpc.NewClientHandler(grpcOptions(tp, prop)...)
}

func grpcOptions(tp trace.TracerProvider, prop propagation.TextMapPropagator) []otelgrpc.Option {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	if prop == nil {
		prop = newPropagator(nil)
	}
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(prop),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
	}
}
