package httptransport

import (
	"context"
	"net/http"
	"strconv"

	"github.com/go-kit/kit/endpoint"
	kithttp "github.com/go-kit/kit/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/telemetry"
)

// TraceEndpointOption customizes [TraceEndpoint].
type TraceEndpointOption func(*traceEndpointOptions)

type traceEndpointOptions struct {
	kind trace.SpanKind
}

// WithSpanKind sets the kind of the endpoint spans; the default is internal (the
// transport's span is the server or client span).
func WithSpanKind(k trace.SpanKind) TraceEndpointOption {
	return func(o *traceEndpointOptions) { o.kind = k }
}

// TraceEndpoint returns a go-kit middleware that runs every call of the endpoint in a
// span named operation, a child of the span in the call's context. It fits any go-kit
// endpoint, served over HTTP, gRPC or a message transport. An error returned by the
// endpoint, or a business error from a response implementing go-kit's
// endpoint.Failer, is recorded on the span with its error.type ([ErrorType]) and sets
// its status to Error. A nil tp means the middleware passes calls through untouched.
func TraceEndpoint(tp trace.TracerProvider, operation string, opts ...TraceEndpointOption) endpoint.Middleware {
	o := traceEndpointOptions{kind: trace.SpanKindInternal}
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
				failed := err
				if failed == nil {
					if f, ok := response.(endpoint.Failer); ok {
						failed = f.Failed()
					}
				}
				if failed != nil {
					span.RecordError(failed)
					span.SetAttributes(semconv.ErrorTypeKey.String(ErrorType(failed)))
					span.SetStatus(codes.Error, failed.Error())
				}
				span.End()
			}()
			return next(ctx, request)
		}
	}
}

// KitServerTelemetry returns go-kit HTTP server options that give every request a
// server span: ServerBefore extracts the caller's trace context and starts the span
// (named "METHOD /route" when the kit server sits behind a ServeMux pattern), and
// ServerFinalizer sets the status code (and error.type on a 5xx) and ends it. Use
// these or [ServerTelemetry] around the mux ([Stack] has it), not both (that would make
// two server spans). A nil tp still extracts the caller's context, so logs and
// outgoing calls keep it.
func KitServerTelemetry(tp trace.TracerProvider, prop propagation.TextMapPropagator) []kithttp.ServerOption {
	tp = telemetry.OrNoopTracer(tp)
	prop = telemetry.OrDefaultPropagator(prop)
	tracer := tp.Tracer(ScopeName)
	before := func(ctx context.Context, r *http.Request) context.Context {
		if sc := trace.SpanContextFromContext(ctx); !sc.IsValid() || sc.IsRemote() {
			ctx = telemetry.ExtractHeaders(ctx, prop, r.Header)
		}
		method := NormalizeMethod(r.Method)
		name := spanMethod(method)
		if r.Pattern != "" {
			name += " " + RouteFromPattern(r.Pattern)
		}
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		if span.IsRecording() {
			kv := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(r.URL.Path), semconv.URLScheme(urlScheme(r))}
			if r.Pattern != "" {
				kv = append(kv, semconv.HTTPRoute(RouteFromPattern(r.Pattern)))
			}
			if r.URL.RawQuery != "" {
				kv = append(kv, semconv.URLQuery(telemetry.RedactQuery(r.URL.RawQuery)))
			}
			if host, _ := splitHostPort(r.Host); host != "" {
				kv = append(kv, semconv.ServerAddress(host))
			}
			if peer, _ := splitHostPort(r.RemoteAddr); peer != "" {
				kv = append(kv, semconv.ClientAddress(peer))
			}
			span.SetAttributes(kv...)
		}
		return ctx
	}
	finalizer := func(ctx context.Context, code int, _ *http.Request) {
		span := trace.SpanFromContext(ctx)
		span.SetAttributes(semconv.HTTPResponseStatusCode(code))
		if code >= 500 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(code)))
			span.SetStatus(codes.Error, "")
		}
		span.End()
	}
	return []kithttp.ServerOption{kithttp.ServerBefore(before), kithttp.ServerFinalizer(finalizer)}
}

// KitClientTelemetry returns go-kit HTTP client options that give every call a client
// span named by its method ("POST"), a child of the span in the call's context, and
// inject its trace context into the request headers. The span carries the semantic
// conventions' attributes (as [ClientTelemetry]'s do) and ends when go-kit's client
// finishes the call. (For a plain *http.Client, use [ClientTelemetry] instead; a
// [Client]'s endpoints have it already.)
func KitClientTelemetry(tp trace.TracerProvider, prop propagation.TextMapPropagator) []kithttp.ClientOption {
	tp = telemetry.OrNoopTracer(tp)
	prop = telemetry.OrDefaultPropagator(prop)
	tracer := tp.Tracer(ScopeName)
	before := func(ctx context.Context, r *http.Request) context.Context {
		method := NormalizeMethod(r.Method)
		ctx, span := tracer.Start(ctx, spanMethod(method), trace.WithSpanKind(trace.SpanKindClient))
		if span.IsRecording() {
			host, port := serverHostPort(r.URL)
			kv := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.ServerAddress(host), semconv.URLFull(redactedURL(r.URL))}
			if p, err := strconv.Atoi(port); err == nil {
				kv = append(kv, semconv.ServerPort(p))
			}
			span.SetAttributes(kv...)
		}
		telemetry.Inject(ctx, prop, propagation.HeaderCarrier(r.Header))
		return ctx
	}
	after := func(ctx context.Context, resp *http.Response) context.Context {
		span := trace.SpanFromContext(ctx)
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if resp.StatusCode >= 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
			span.SetStatus(codes.Error, "")
		}
		return ctx
	}
	finalizer := func(ctx context.Context, err error) {
		span := trace.SpanFromContext(ctx)
		if err != nil {
			span.RecordError(err)
			span.SetAttributes(semconv.ErrorTypeKey.String(ErrorType(err)))
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	return []kithttp.ClientOption{kithttp.ClientBefore(before), kithttp.ClientAfter(after), kithttp.ClientFinalizer(finalizer)}
}
