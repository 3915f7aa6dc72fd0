// Package telemetrybench holds the benchmarks of Paved's tracing and metrics middleware:
// the per-request cost of httptransport.ServerTelemetry (tracing, metrics, both) with
// the sampler off, at 10 % and at 100 % with a batch span processor, next to the same
// handler with no middleware and to the contrib otelhttp handler. Results and the
// command to reproduce them are in README.md. The package has no non-test code.
package telemetrybench
