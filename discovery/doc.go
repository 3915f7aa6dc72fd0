// Package discovery is Paved's service registration and client-side discovery.
//
// It defines the shapes every registry backend shares and the machinery that sits on top
// of them, and imports no backend:
//
//   - [Instance] describes one running copy of a service: its id, service name, version,
//     addresses by kind (HTTP, admin, gRPC), readiness [Status] and metadata.
//   - [Registrar] is what a backend implements to register, heartbeat and deregister an
//     instance. Every call takes a context and returns an error; a heartbeat for an
//     instance the registry forgot returns an error matching [ErrUnknownInstance].
//   - [Agent] runs the automatic registration of one instance: it registers in the
//     background with exponential backoff and full jitter, forever; heartbeats every
//     TTL/3 carrying the readiness status; re-registers, after a random delay, when the
//     registry forgot the instance; deregisters once on stop. Its state is logged on each
//     change and exported as the paved_registration_state gauge.
//   - [Cache] is the shared fan-out that backends feed with the full set of instances of
//     one service (or an error). It passes on only ready instances, keeps the last known
//     set while the registry is unreachable, implements go-kit's sd.Instancer (so
//     sd.NewEndpointer and the lb package work on top of it) and offers a richer API,
//     [Cache.Instances] and [Cache.Subscribe], returning [Instance] values with all their
//     addresses. [Instancer] is the interface clients accept.
//
// Backends live in their own packages so a program that does not use them does not
// import them: discovery/static (a fixed list, and an in-memory registry for tests and
// small setups), discovery/etcd (leases and watches) and discovery/consul (agent API and
// blocking health queries). The catalog client is a backend too. discovery/discoverytest
// is the conformance suite every backend passes.
//
// # Concurrency and zero values
//
// [Agent] and [Cache] are safe for concurrent use; create them with [NewAgent] and
// [NewCache] (their zero values are not usable). [Instance], [Addresses] and [Status] are
// plain values; the zero Instance is invalid (see [Instance.Validate]).
package discovery
