package grpctransport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/transport/httptransport"
)

// ClientOption configures [NewClient].
type ClientOption func(*clientOptions)

type clientOptions struct {
	instancer discovery.Instancer
	target    string
	policy    *resilience.Policy
	tp        trace.TracerProvider
	prop      propagation.TextMapPropagator
	reg       prometheus.Registerer
	dial      []grpc.DialOption
	recorders []func(httptransport.Dependency)
	apis      []string
}

// WithAPI names the APIs of the dependency the client calls (such as its gRPC service's
// full name, "shop.inventory.v1.Inventory"), so the service reports which API of which
// dependency it consumes. NewClient fails on a name that is not a valid API name.
func WithAPI(names ...string) ClientOption {
	return func(o *clientOptions) { o.apis = append(o.apis, names...) }
}

// WithInstancer makes the client find the dependency's instances (their gRPC
// addresses) through in, with round-robin balancing over them.
func WithInstancer(in discovery.Instancer) ClientOption {
	return func(o *clientOptions) { o.instancer = in }
}

// WithTarget dials target (any gRPC target, "127.0.0.1:9000" or "dns:///inventory:9000")
// instead of discovering instances.
func WithTarget(target string) ClientOption { return func(o *clientOptions) { o.target = target } }

// WithPolicy runs every unary call under p (see [PolicyUnary]).
func WithPolicy(p *resilience.Policy) ClientOption { return func(o *clientOptions) { o.policy = p } }

// WithTracerProvider gives every call a client span from tp (Paved's stats handler).
// Without it the trace context of the call's context is still propagated.
func WithTracerProvider(tp trace.TracerProvider) ClientOption {
	return func(o *clientOptions) { o.tp = tp }
}

// WithPropagator injects the trace context into calls with prop; nil (the default)
// means W3C tracecontext and baggage.
func WithPropagator(prop propagation.TextMapPropagator) ClientOption {
	return func(o *clientOptions) { o.prop = prop }
}

// WithRegisterer records rpc_client_call_duration_seconds of unary calls on reg, with
// the dependency's name as server_address when it is found through an instancer, and
// the target's host and port otherwise; nil means no metrics.
func WithRegisterer(reg prometheus.Registerer) ClientOption {
	return func(o *clientOptions) { o.reg = reg }
}

// WithDialOptions adds options to grpc.NewClient, after Paved's: transport credentials
// (the default is insecure, for a mesh or loopback), keepalive, message sizes...
func WithDialOptions(opts ...grpc.DialOption) ClientOption {
	return func(o *clientOptions) { o.dial = append(o.dial, opts...) }
}

// WithRecorder calls record once with the client's dependency record (Protocol
// "grpc"), for the catalog and the compliance check.
func WithRecorder(record func(httptransport.Dependency)) ClientOption {
	return func(o *clientOptions) {
		if record != nil {
			o.recorders = append(o.recorders, record)
		}
	}
}

// Client is a gRPC connection to one named dependency. Use [Client.Conn] with
// generated clients (pb.NewInventoryClient(c.Conn())). It is safe for concurrent use;
// Close it when done.
type Client struct {
	name string
	conn *grpc.ClientConn
	dep  httptransport.Dependency
}

// NewClient returns a client for the dependency name (a DNS label, as in the catalog),
// found through [WithInstancer] at "paved:///<name>" or dialled at [WithTarget]; one of
// the two is required. Calls carry the request id and trace context of their context;
// unary calls run under the policy given with [WithPolicy]. No connection is made
// until the first call.
func NewClient(name string, opts ...ClientOption) (*Client, error) {
	if err := discovery.ValidateServiceName(name); err != nil {
		return nil, fmt.Errorf("grpctransport: dependency name: %w", err)
	}
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := httptransport.CheckAPINames(o.apis); err != nil {
		return nil, fmt.Errorf("grpctransport: client %q: WithAPI: %w", name, err)
	}
	metrics, err := NewClientMetrics(o.reg)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: client %q: %w", name, err)
	}
	address, port := name, ""
	if o.instancer == nil {
		address, port = targetHostPort(o.target)
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(clientStatsHandler(o.tp, o.prop, address, port)),
	}
	unary := []grpc.UnaryClientInterceptor{RequestIDClientUnary(), MetricsClientUnary(metrics, address, port)}
	if o.policy != nil {
		unary = append(unary, PolicyUnary(o.policy))
	}
	dial = append(dial, grpc.WithChainUnaryInterceptor(unary...), grpc.WithChainStreamInterceptor(RequestIDClientStream()))
	target := o.target
	switch {
	case o.instancer != nil && target != "":
		return nil, fmt.Errorf("grpctransport: client %q: give WithInstancer or WithTarget, not both", name)
	case o.instancer != nil:
		target = Scheme + ":///" + name
		dial = append(dial, grpc.WithResolvers(NewResolverBuilder(Static(name, o.instancer))),
			grpc.WithDefaultServiceConfig(roundRobinConfig))
	case target == "":
		return nil, fmt.Errorf("grpctransport: client %q: WithInstancer or WithTarget is required", name)
	}
	conn, err := grpc.NewClient(target, append(dial, o.dial...)...)
	if err != nil {
		return nil, fmt.Errorf("grpctransport: client %q: %w", name, err)
	}
	c := &Client{name: name, conn: conn, dep: httptransport.Dependency{
		Name: name, Protocol: "grpc", Paved: true,
		Breaker:   o.policy != nil && o.policy.HasBreaker(),
		Timeout:   o.policy != nil && o.policy.HasTimeout(),
		Discovery: o.instancer != nil,
		APIs:      slices.Clone(o.apis),
	}}
	if o.instancer != nil {
		c.dep.Balance = "round_robin"
	}
	for _, rec := range o.recorders {
		rec(c.dep)
	}
	return c, nil
}

// Conn returns the client's connection.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Name returns the dependency's name.
func (c *Client) Name() string { return c.name }

// Dependency returns what the client records about its dependency.
func (c *Client) Dependency() httptransport.Dependency { return c.dep }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RequestIDClientUnary returns a client interceptor that sends the request id of the
// call's context (httptransport.RequestIDFrom) as x-request-id, unless the outgoing
// metadata already has one.
func RequestIDClientUnary() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(outgoingRequestID(ctx), method, req, reply, cc, opts...)
	}
}

// RequestIDClientStream is [RequestIDClientUnary] for streams.
func RequestIDClientStream() grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(outgoingRequestID(ctx), desc, cc, method, opts...)
	}
}

func outgoingRequestID(ctx context.Context) context.Context {
	id := httptransport.RequestIDFrom(ctx)
	if id == "" {
		return ctx
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok && len(md.Get(RequestIDKey)) > 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, RequestIDKey, id)
}

// PolicyUnary returns a client interceptor that runs every unary call under p: its
// rate limit, bulkhead, timeouts, retries and breaker. What counts as a failure:
// Unavailable and ResourceExhausted (retried: the server did not do the work), and
// DeadlineExceeded when it is not the caller's own deadline (counted by the breaker,
// retried only when the context is marked resilience.Idempotent, since the server may
// have done the work). Every other code is the dependency answering: a success for the
// breaker, never retried. The caller gets the call's own status error.
func PolicyUnary(p *resilience.Policy) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		idempotent := resilience.IsIdempotent(ctx)
		_, err := resilience.Do(ctx, p, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, classify(invoker(ctx, method, req, reply, cc, opts...), idempotent)
		})
		var ce *codeError
		if errors.As(err, &ce) {
			return ce.err
		}
		return err
	}
}

// codeError carries a gRPC status error to the resilience policy with an HTTP-like
// status its default classifier understands: 503/429/504 fail, 400 succeeds.
type codeError struct {
	err  error
	code int
}

func (e *codeError) Error() string   { return e.err.Error() }
func (e *codeError) Unwrap() error   { return e.err }
func (e *codeError) StatusCode() int { return e.code }

func classify(err error, idempotent bool) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err // not a status: a transport error, a failure
	}
	switch st.Code() {
	case codes.Unavailable:
		return &codeError{err: err, code: 503}
	case codes.ResourceExhausted:
		return &codeError{err: err, code: 429}
	case codes.DeadlineExceeded:
		ce := &codeError{err: err, code: 504}
		if idempotent {
			return ce
		}
		return resilience.Permanent(ce)
	}
	return resilience.Permanent(&codeError{err: err, code: 400})
}

// targetHostPort returns the host and port of a gRPC target ("host:port",
// "dns:///host:port", "passthrough:///host:port"); the port is "" when the target
// names none.
func targetHostPort(target string) (host, port string) {
	if i := strings.LastIndex(target, "/"); i >= 0 {
		target = target[i+1:]
	}
	if h, p, err := net.SplitHostPort(target); err == nil {
		return h, p
	}
	return target, ""
}
