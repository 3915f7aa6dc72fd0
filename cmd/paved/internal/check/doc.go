// Package check is the engine of `paved check`: it reads a running Paved service's
// admin /compliance and /info, probes the service itself (/readyz answers 200, /metrics
// parses as Prometheus text and as OpenMetrics, pprof and the admin endpoints are not
// reachable on the public port, /config shows no secret-looking value unredacted) and
// returns a [Result] that prints as text for a person or as JSON for a pipeline.
//
// Every request is bounded by [Options.Timeout]; [Run] never hangs. An admin address
// that cannot be reached, or a URL that is not an http(s) URL, is an [*UsageError] (exit
// code 2 in the command); everything the service answers is a finding in the Result.
//
// Run is safe for concurrent use; a Result is a plain value. The zero [Options] is not
// valid: AdminURL is required; a zero Timeout means 10 seconds and a nil Client a fresh
// one.
package check
