// Package grpchealth serves the gRPC Health Checking Protocol v1
// (grpc.health.v1.Health: Check, Watch and List) from a health.Registry, so gRPC load
// balancers, Kubernetes gRPC probes and grpc-health-probe see the same answers as the
// HTTP probes. It lives apart from package health so that health does not import gRPC.
//
// Service names map onto the registry: "" (the whole server) and "readiness" are the
// readiness set, "liveness" and "startup" the other sets, any name passed to New or
// AddService (a gRPC service such as "orders.v1.Orders"; grpctransport.Server adds every
// service registered on it) follows readiness, and a registered check's name
// is that check alone. Any other name is NOT_FOUND for Check and SERVICE_UNKNOWN for
// Watch. A set or check that passes or warns is SERVING; one that fails is NOT_SERVING,
// so health.Registry.Shutdown turns the whole server NOT_SERVING at once.
//
// Watch sends the current status, then every change; a slow reader gets only the latest
// status, as the protocol asks. Watch also evaluates its target every WatchRefresh, so
// on-demand checks are seen to change without other probes.
//
// A *Server is safe for concurrent use. Create it with New; the zero Server is not
// usable.
package grpchealth
