package grpctransport

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/telemetry"
)

// ScopeName is the instrumentation scope of the spans this package starts.
const ScopeName = "github.com/paved-road/paved/transport/grpctransport"

// Names of the call-duration histograms (docs/metrics.md): the OpenTelemetry semantic
// conventions' rpc.server.call.duration and rpc.client.call.duration as Prometheus
// shows them.
const (
	MetricServerDuration = "rpc_server_call_duration_seconds"
	MetricClientDuration = "rpc_client_call_duration_seconds"
)

// Label names, from the semantic conventions' attribute keys.
var (
	labelSystem    = telemetry.LabelName(semconv.RPCSystemNameKey)
	labelMethod    = telemetry.LabelName(semconv.RPCMethodKey)
	labelStatus    = telemetry.LabelName(semconv.RPCResponseStatusCodeKey)
	labelErrorType = telemetry.LabelName(semconv.ErrorTypeKey)
	labelAddress   = telemetry.LabelName(semconv.ServerAddressKey)
	labelPort      = telemetry.LabelName(semconv.ServerPortKey)
	systemGRPC     = semconv.RPCSystemNameGRPC.Value.AsString()
)

// ServerMetrics records rpc_server_call_duration_seconds{rpc_system_name="grpc",
// rpc_method, rpc_response_status_code, error_type}: rpc_method is the fully
// qualified method ("pkg.Service/Method"), rpc_response_status_code the status code's
// name ("OK", "NOT_FOUND"...), and error_type that name again for the codes the
// semantic conventions count as a server's errors (UNKNOWN, DEADLINE_EXCEEDED,
// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS), empty otherwise. Build it with
// [NewServerMetrics]; a nil *ServerMetrics records nothing. It is safe for concurrent
// use.
type ServerMetrics struct {
	hist *telemetry.Histogram
}

// NewServerMetrics registers the histogram on reg; a nil reg records nothing.
func NewServerMetrics(reg prometheus.Registerer) (*ServerMetrics, error) {
	h, err := telemetry.NewHistogram(reg, prometheus.HistogramOpts{
		Name: MetricServerDuration,
		Help: "Duration of RPCs served, by RPC system (grpc), method (pkg.Service/Method), status code name (OK, NOT_FOUND...) and error type.",
	}, labelSystem, labelMethod, labelStatus, labelErrorType)
	if err != nil || h == nil {
		return nil, err
	}
	return &ServerMetrics{hist: h}, nil
}

// Observe records one call of fullMethod ("/pkg.Service/Method", as gRPC names it)
// that ended with code. The method must be a registered one (an interceptor only sees
// those, unless the server has an unknown-service handler, whose calls should be
// recorded as "_OTHER").
func (m *ServerMetrics) Observe(ctx context.Context, fullMethod string, code codes.Code, d time.Duration) {
	if m == nil {
		return
	}
	name, errType := CodeName(code), ""
	if serverError(code) {
		errType = name
	}
	m.hist.Observe(trace.SpanContextFromContext(ctx), d, systemGRPC, rpcMethod(fullMethod), name, errType)
}

// ClientMetrics records rpc_client_call_duration_seconds{rpc_system_name="grpc",
// rpc_method, rpc_response_status_code, error_type, server_address, server_port}, the
// labels of [ServerMetrics] (error_type is the code's name for every code but OK, as
// the conventions say for a client) and the server called. Build it with
// [NewClientMetrics]; a nil *ClientMetrics records nothing. It is safe for concurrent
// use.
type ClientMetrics struct {
	hist *telemetry.Histogram
}

// NewClientMetrics registers the histogram on reg; a nil reg records nothing.
func NewClientMetrics(reg prometheus.Registerer) (*ClientMetrics, error) {
	h, err := telemetry.NewHistogram(reg, prometheus.HistogramOpts{
		Name: MetricClientDuration,
		Help: "Duration of outgoing RPCs, by RPC system (grpc), method (pkg.Service/Method), status code name, error type and server address and port.",
	}, labelSystem, labelMethod, labelStatus, labelErrorType, labelAddress, labelPort)
	if err != nil || h == nil {
		return nil, err
	}
	return &ClientMetrics{hist: h}, nil
}

// Observe records one outgoing call of fullMethod to serverAddress and serverPort ("",
// when unknown), which must come from the service's own configuration or discovery.
func (m *ClientMetrics) Observe(ctx context.Context, fullMethod, serverAddress, serverPort string, code codes.Code, d time.Duration) {
	if m == nil {
		return
	}
	name, errType := CodeName(code), ""
	if code != codes.OK {
		errType = name
	}
	m.hist.Observe(trace.SpanContextFromContext(ctx), d, systemGRPC, rpcMethod(fullMethod), name, errType, serverAddress, serverPort)
}

// MetricsClientUnary returns a client interceptor that records every unary call in m
// (see [ClientMetrics]) with the given server address and port. A nil m records
// nothing.
func MetricsClientUnary(m *ClientMetrics, serverAddress, serverPort string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if m == nil {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		m.Observe(ctx, method, serverAddress, serverPort, status.Code(err), time.Since(start))
		return err
	}
}

// serverError reports whether code is an error of the server's own, as the semantic
// conventions' gRPC page lists them; the other codes are the client's doing.
func serverError(code codes.Code) bool {
	switch code {
	case codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss:
		return true
	}
	return false
}

// rpcMethod turns gRPC's "/pkg.Service/Method" into rpc.method's "pkg.Service/Method";
// a name of another shape is "_OTHER", so label values stay bounded.
func rpcMethod(full string) string {
	s := strings.TrimPrefix(full, "/")
	if i := strings.IndexByte(s, '/'); i <= 0 || i == len(s)-1 || strings.IndexByte(s[i+1:], '/') >= 0 {
		return "_OTHER"
	}
	return s
}

// metadataCarrier adapts gRPC metadata to propagation.TextMapCarrier (its keys are
// lower case, as the W3C propagators write them).
type metadataCarrier metadata.MD

func (c metadataCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c metadataCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c metadataCarrier) Keys() []string { return telemetry.HeaderCarrier(c).Keys() }

// tracingHandler is the gRPC stats handler that gives every RPC a span, following the
// OpenTelemetry semantic conventions for gRPC as contrib's otelgrpc does: named by the
// method ("pkg.Service/Method"), with rpc.system.name, rpc.method,
// rpc.response.status_code (the code's name), error.type and an error status on the
// codes that are errors for its side, server.address and server.port (a client's:
// the server it was configured to call; a server's: its own listener) and
// client.address on the server. A server span is a child of the caller's trace
// context read from the metadata; a client span is injected into the call's outgoing
// metadata.
//
// It is Paved's own rather than otelgrpc's so that a service links one HTTP and one
// gRPC instrumentation written alike (otelgrpc brought two semantic-convention
// versions and ~125 KB to every binary, bench/footprint) and so that a provider
// declared never to sample a root (telemetry.DeclareRootNeverSampled) costs an
// unsampled RPC no span at all, as on HTTP.
type tracingHandler struct {
	tracer           trace.Tracer
	prop             propagation.TextMapPropagator
	server           bool
	rootNeverSampled bool
	// serverAttrs are a client's server.address and server.port.
	serverAttrs []attribute.KeyValue
}

func newTracingHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator, server bool) *tracingHandler {
	tp = telemetry.OrNoopTracer(tp)
	prop = telemetry.OrDefaultPropagator(prop)
	return &tracingHandler{tracer: tp.Tracer(ScopeName), prop: prop, server: server, rootNeverSampled: telemetry.RootNeverSampled(tp)}
}

// serverStatsHandler gives every RPC a server span (see [tracingHandler]).
func serverStatsHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator) stats.Handler {
	return newTracingHandler(tp, prop, true)
}

// clientStatsHandler gives every call to address:port a client span and injects its
// context into the call's metadata (see [tracingHandler]).
func clientStatsHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator, address, port string) stats.Handler {
	h := newTracingHandler(tp, prop, false)
	h.serverAttrs = hostPortAttrs(address, port)
	return h
}

// hostPortAttrs returns server.address and server.port, each when known.
func hostPortAttrs(host, port string) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	if host != "" {
		attrs = append(attrs, semconv.ServerAddress(host))
	}
	if p, err := strconv.Atoi(port); err == nil && p > 0 {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return attrs
}

// TagConn implements stats.Handler.
func (*tracingHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}

// HandleConn implements stats.Handler.
func (*tracingHandler) HandleConn(context.Context, stats.ConnStats) {}

// TagRPC starts the RPC's span.
func (h *tracingHandler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	kind := trace.SpanKindClient
	if h.server {
		kind = trace.SpanKindServer
		md, _ := metadata.FromIncomingContext(ctx)
		ctx = h.prop.Extract(ctx, metadataCarrier(md))
		if h.rootNeverSampled && !trace.SpanContextFromContext(ctx).IsSampled() {
			return ctx // no span: the caller's context, if any, passes through
		}
	}
	method := rpcMethod(info.FullMethodName)
	attrs := make([]attribute.KeyValue, 0, 4+len(h.serverAttrs))
	attrs = append(attrs, semconv.RPCSystemNameGRPC, semconv.RPCMethod(method))
	attrs = append(attrs, h.serverAttrs...)
	ctx, _ = h.tracer.Start(ctx, method, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	if !h.server {
		md, ok := metadata.FromOutgoingContext(ctx)
		if !ok {
			md = metadata.MD{}
		}
		telemetry.Inject(ctx, h.prop, metadataCarrier(md))
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	return ctx
}

// HandleRPC adds the peer's addresses and, at the end, the status, and ends the span.
func (h *tracingHandler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	switch rs := rs.(type) {
	case *stats.InHeader:
		if h.server {
			if rs.LocalAddr != nil {
				if host, port, err := net.SplitHostPort(rs.LocalAddr.String()); err == nil {
					span.SetAttributes(hostPortAttrs(host, port)...)
				}
			}
			if rs.RemoteAddr != nil {
				if host, _, err := net.SplitHostPort(rs.RemoteAddr.String()); err == nil {
					span.SetAttributes(semconv.ClientAddress(host))
				}
			}
		}
	case *stats.End:
		code := status.Code(rs.Error)
		name := CodeName(code)
		span.SetAttributes(semconv.RPCResponseStatusCode(name))
		if h.server && serverError(code) || !h.server && code != codes.OK {
			span.SetAttributes(semconv.ErrorTypeKey.String(name))
			span.SetStatus(otelcodes.Error, status.Convert(rs.Error).Message())
		}
		span.End()
	}
}
