package telemetry

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// BuildInfo identifies the running build; it is exported as the build_info metric.
type BuildInfo struct {
	// Service is the service (component) name.
	Service string
	// Version is the service's version, such as "1.4.2".
	Version string
	// Revision is the VCS revision the binary was built from, if known.
	Revision string
	// GoVersion is the Go version the binary was built with; empty means runtime.Version().
	GoVersion string
}

// NewRegistry returns a new Prometheus registry holding the Go runtime collector, the
// process collector and a build_info gauge (value 1) labelled with service, version,
// revision and goversion. It never touches prometheus.DefaultRegisterer.
func NewRegistry(b BuildInfo) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewBuildInfoCollector(b),
	)
	return reg
}

// NewBuildInfoCollector returns a collector of the build_info gauge described at
// [NewRegistry], for callers that bring their own registry.
func NewBuildInfoCollector(b BuildInfo) prometheus.Collector {
	gv := b.GoVersion
	if gv == "" {
		gv = runtime.Version()
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "build_info",
		Help: "A metric with a constant '1' value labelled by the service's name, version, revision and the Go version it was built with.",
		ConstLabels: prometheus.Labels{
			"service":   b.Service,
			"version":   b.Version,
			"revision":  b.Revision,
			"goversion": gv,
		},
	})
	g.Set(1)
	return g
}
