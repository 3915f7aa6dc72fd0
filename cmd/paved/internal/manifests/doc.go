// Package manifests writes the Kubernetes manifests of a Paved service and checks
// manifests against the service's own settings.
//
// [Generate] writes a Deployment (probes on the admin port, a grace period covering
// the stop, resources, a restricted security context, topology spread), a Service for
// the public ports only, a NetworkPolicy that opens the admin port to the monitoring
// namespace alone, a PodDisruptionBudget, a PodMonitor and, for a service with data (the
// catalog on bbolt), a PersistentVolumeClaim. The ports, probes and grace period follow
// the service's settings, loaded from the variables given as the service loads them
// (service.Load): one home for every default.
//
// [Check] reads manifests and reports, for each Deployment, whether its probes match the
// admin address, their timeouts leave headroom over health.Options.ProbeWait, the grace
// period covers service.StopBudget, no Service selecting the pods exposes the admin
// port, and every variable set is one Paved knows (service.Config's fields, OTEL_*, the
// Go runtime's and the service's own from its configuration reference), with a "did you
// mean" for a typo. `paved manifests` and `paved check --manifests` are built on them.
//
// Functions here keep no state and are safe for concurrent use.
package manifests
