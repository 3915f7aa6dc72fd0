package grpctransport

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/telemetry"
)

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

// serverStatsHandler is the contrib otelgrpc stats handler that gives every RPC a
// server span; its own OpenTelemetry metrics are off ([ServerMetrics] records them in
// Prometheus).
func serverStatsHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator) stats.Handler {
	return otelgrpc.NewServerHandler(otelgrpcOptions(tp, prop)...)
}

// clientStatsHandler is the contrib otelgrpc stats handler that gives every call a
// client span and injects its context.
func clientStatsHandler(tp trace.TracerProvider, prop propagation.TextMapPropagator) stats.Handler {
	return otelgrpc.NewClientHandler(otelgrpcOptions(tp, prop)...)
}

func otelgrpcOptions(tp trace.TracerProvider, prop propagation.TextMapPropagator) []otelgrpc.Option {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	if prop == nil {
		prop = telemetry.DefaultPropagator()
	}
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(prop),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
	}
}
