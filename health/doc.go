// Package health keeps one registry of named health checks and serves it as the
// liveness, readiness and startup probes every orchestrator and load balancer speaks.
//
// A check is a name plus a func(ctx) error, registered with [Registry.Register] for
// [Liveness], [Readiness] and/or [Startup]. Each check has a timeout, a critical flag (a
// failing non-critical check reports "warn" and does not fail its set) and either runs on
// demand with a result cache ([Check.CacheTTL]) or periodically in the background
// ([Check.Period], driven by [Registry.Run]).
//
// Probes are answered from the last result. At most one run of a check is in flight at any
// time (single-flight), so a probe storm or a hanging dependency never piles up goroutines;
// a check that ignores its context is abandoned at its timeout and reported failed, and a
// check that panics is reported failed with the panic's message.
//
// [Registry.Handler] and [Registry.Mount] serve /livez, /readyz, /startupz and /healthz
// (200 or 503), each check at /<set>/<name>, the Kubernetes query forms ?verbose and
// ?exclude=<name>, and application/health+json (the IETF draft "Health Check Response
// Format for HTTP APIs") when the request asks for JSON. Error details stay in the log
// unless [Options.ShowDetails] is set.
//
// Readiness and startup fail until [Registry.MarkStarted] and from the first moment of
// [Registry.Shutdown]; liveness is unaffected by both. Liveness refuses checks that probe
// a dependency unless [Options.AllowLivenessDependencies] is set: a shared dependency that
// fails would otherwise restart every replica at once.
//
// [Registry.Run] drives the periodic checks until its context ends; [Registry.Close]
// cancels every run and waits for them, so no goroutine of the registry outlives it.
//
// [Registry.Watch] delivers status changes with latest-only semantics; the sub-package
// grpchealth serves the gRPC Health Checking Protocol v1 from the same registry, and
// the sub-package checks holds ready-made checks (HTTP, TCP, SQL, DNS, etcd, goroutines,
// heap).
//
// # Concurrency and zero values
//
// A *Registry is safe for concurrent use by multiple goroutines. Create it with [New]; the
// zero Registry is not usable. The zero [Options] is a valid configuration (no logging, no
// metrics, details withheld), and zero fields of [Check] take the defaults documented on
// each field.
package health
