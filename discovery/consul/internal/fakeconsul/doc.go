// Package fakeconsul is a FAKE of the Consul agent's HTTP API, for tests only: a Consul
// agent cannot be installed where Paved's tests run, so the consul backend is tested
// against this fake over real HTTP on loopback.
//
// It implements only the endpoints github.com/hashicorp/consul/api calls for the
// backend, with the behaviour the backend relies on:
//
//   - PUT /v1/agent/service/register: a service with one TTL check (the check starts in
//     the status given, critical when none, as Consul does); registering an existing id
//     replaces it.
//   - PUT /v1/agent/check/update/{check id}: sets the check's status and restarts its
//     TTL; an unknown check answers 500 `CheckID "..." does not have associated TTL`, as
//     Consul does.
//   - PUT /v1/agent/service/deregister/{service id}: removes the service; an unknown id
//     answers 404.
//   - GET /v1/health/service/{name}: the service's entries with their checks (plus the
//     node's serfHealth check), ?passing filters to all-passing entries, and blocking
//     queries: ?index=N&wait=D waits until the state index moves past N or D elapses
//     (at most 10 minutes, 5 by default); the index is in X-Consul-Index.
//
// A check not updated within its TTL turns critical, and a service whose check stayed
// critical for DeregisterCriticalServiceAfter is removed. Everything else (ACLs,
// catalog, KV, datacenters, anti-entropy, the minimum of one minute Consul imposes on
// DeregisterCriticalServiceAfter) is not faked.
//
// [Server] is safe for concurrent use. Create it with [New] and [Server.Close] it.
package fakeconsul
