package service

import (
	"time"

	"github.com/paved-road/paved/telemetry"
)

// StopBudget is the longest a stop of a service with the settings c takes, from the
// first SIGTERM to the exit: deregistration (at most 2s), DRAIN_DELAY,
// SHUTDOWN_TIMEOUT, and the trace flush (the OTLP export timeout,
// OTEL_EXPORTER_OTLP_TIMEOUT, at most 5s). A platform that kills the process earlier
// (Kubernetes' terminationGracePeriodSeconds) cuts requests in flight, so its grace
// period must be at least this; `paved check --manifests` holds a Deployment to it.
func StopBudget(c Config) time.Duration {
	flush := c.Tracing.Timeout
	if flush <= 0 {
		flush = telemetry.DefaultOTLPTimeout
	}
	return deregisterTimeout + c.DrainDelay + c.ShutdownTimeout + min(flush, maxFlushTimeout)
}
