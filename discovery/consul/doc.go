// Package consul is the discovery backend on a Consul agent
// (github.com/hashicorp/consul/api).
//
// [Registrar.Register] registers the instance as an agent service with one TTL check
// whose status follows the instance's readiness: [Registrar.Heartbeat] updates it
// (passing, warning or critical) and so restarts its TTL. A process that dies stops
// updating the check: it turns critical after the TTL, which takes the instance out of
// clients' sets, and Consul removes the service after DeregisterCriticalServiceAfter
// (see [WithDeregisterCriticalAfter]). A check the agent no longer knows (agent restarted
// without its data, service removed) makes Heartbeat return
// [discovery.ErrUnknownInstance], and [discovery.Agent] registers again.
//
// # Mapping
//
// The Consul service is named after Instance.Service; its id is "<service>-<instance
// id>" (service ids are unique per agent, instance ids only per service); its Address
// and Port are the instance's HTTP address (else gRPC, else admin). The instance's id,
// version and addresses travel in service meta under the reserved keys paved-id,
// paved-version, paved-http, paved-admin and paved-grpc, beside the instance's own
// metadata, so at most 59 metadata keys fit. The check's id is "service:<service id>".
//
// # Discovery
//
// [Instancer] runs blocking queries on /v1/health/service/<name> and maps each entry's
// aggregated check status (maintenance counts as critical) to the instance's Status;
// [discovery.Cache] then passes on the ready ones. While the agent is unreachable it
// keeps the last known set.
//
// The tests run against fakeconsul, a fake of the agent's HTTP endpoints, because a
// Consul agent cannot be installed where they run.
//
// [Registrar] and [Instancer] are safe for concurrent use.
package consul
