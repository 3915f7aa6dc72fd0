package telemetry

import (
	"runtime"

	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

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
// process collector and a build_info gauge (value 1) labelled with service_name,
// service_version, revision and goversion. It never touches
// prometheus.DefaultRegisterer.
//
// The labels are the OpenTelemetry resource's names (service.name, service.version) as
// Prometheus shows them, so they match target_info ([NewTargetInfoCollector]) and never
// collide with the labels Prometheus puts on a target: the catalog's service discovery
// gives every target a version label, which would turn a version label of the metric's
// into exported_version.
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
			LabelName(semconv.ServiceNameKey):    b.Service,
			LabelName(semconv.ServiceVersionKey): b.Version,
			"revision":                           b.Revision,
			"goversion":                          gv,
		},
	})
	g.Set(1)
	return g
}

// NewTargetInfoCollector returns a collector of the target_info gauge (value 1) whose
// labels are the attributes of res, named as Prometheus shows the resource of metrics
// exported by the OpenTelemetry SDK (service_name, service_version,
// service_instance_id, deployment_environment_name, telemetry_sdk_language...; see
// [LabelName]), so that dashboards made for OpenTelemetry join on them. Attributes
// whose names meet after the renaming have their values joined by ";". A nil res
// gives a target_info without labels. Build res with [NewResource].
func NewTargetInfoCollector(res *resource.Resource) prometheus.Collector {
	labels := prometheus.Labels{}
	if res != nil {
		for _, kv := range res.Attributes() {
			name := LabelName(kv.Key)
			if prev, ok := labels[name]; ok {
				labels[name] = prev + ";" + kv.Value.String()
				continue
			}
			labels[name] = kv.Value.String()
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "target_info",
		Help:        "Target metadata: the service's OpenTelemetry resource attributes.",
		ConstLabels: labels,
	})
	g.Set(1)
	return g
}
