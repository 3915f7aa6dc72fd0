// Package footprint measures what a service pays for importing Paved: consumer/ is a
// module whose main imports only the service package, as a team's does, and baseline/
// is a module doing the same job by hand with the libraries Paved wraps (go-kit,
// client_golang, the OpenTelemetry SDK with the OTLP/HTTP exporter, gobreaker,
// caarlos0/env). The test builds both outside the workspace, from this checkout, and
// compares their module graphs, the packages they compile and their binaries.
//
// The package has no non-test code; README.md holds the figures.
package footprint
