// Package grpctransport is Paved's gRPC transport: the standard server interceptors,
// a server adapter with graceful shutdown and the health v1 service, go-kit
// transport/grpc helpers, and a client with resilience and discovery.
//
// Server: [NewServer] builds a *grpc.Server with, for unary and streaming calls alike
// and outermost first: Paved's stats handler (a server span named "pkg.Service/Method",
// a child of the caller's, with the semantic conventions' attributes; none for an
// unsampled call when the provider is declared never to sample a root, see
// telemetry.DeclareRootNeverSampled), [RequestIDUnary] (x-request-id from the metadata, else generated; echoed in
// the response header and put in the context where httptransport.RequestIDFrom finds
// it), [MetricsUnary] ([ServerMetrics]: rpc_server_call_duration_seconds{
// rpc_system_name,rpc_method,rpc_response_status_code,error_type}),
// [RecoverUnary] (a panic becomes codes.Internal without its text, logged with the
// stack) and [DeadlineUnary] (calls get at most the server's maximum deadline; the
// caller's deadline always reaches the handler's context, and from there every
// outgoing call made with it). The grpc.health.v1 service is registered by default:
// the one given in [ServerOptions.Health] (health/grpchealth fed by the health
// registry) or a built-in one, SERVING until [Server.Shutdown] starts. Server
// reflection and the services' descriptors come with [ServerOptions.Reflection]
// (grpcreflection.New(), linked only by a program that uses it). [Server] has Serve(net.Listener) and Shutdown(ctx): GracefulStop under the
// context, then Stop.
//
// Client: [NewClient] dials a named dependency, through a discovery instancer with the
// resolver of scheme "paved" ([NewResolverBuilder], passed with grpc.WithResolvers,
// never registered globally) and round-robin balancing, or a fixed target. Unary calls
// run under a resilience policy ([PolicyUnary]): Unavailable, ResourceExhausted and
// DeadlineExceeded (unless the caller's own deadline passed) count as failures; other
// codes are the dependency answering. Calls carry the request id and the trace context
// (the client stats handler makes a client span with server.address and server.port); with [WithRegisterer],
// unary calls are recorded in rpc_client_call_duration_seconds ([ClientMetrics],
// [MetricsClientUnary]).
//
// go-kit: [KitServerBefore] and [KitClientBefore] carry trace context and the request
// id through go-kit's transport/grpc metadata functions; httptransport.TraceEndpoint
// traces the endpoints.
//
// Everything here is safe for concurrent use once built. The zero [ServerOptions]
// recovers panics, assigns request ids and serves health, with no metrics or spans.
package grpctransport
