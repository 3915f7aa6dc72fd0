package meta

// Layer says, for the packages that match Package, which Paved packages and which
// third-party modules their non-test code may import. The standard library is always
// allowed. Patterns are paths relative to the module root (github.com/paved-road/paved),
// "x/..." matching x and every package below it; a third-party entry matches the module
// path it names and every package below it.
type Layer struct {
	Package    string   // the package, or a pattern such as "catalog/store/..."
	Paved      []string // Paved packages it may import (patterns)
	ThirdParty []string // third-party module paths it may import
	Why        string   // the rule in a sentence, for the docs
}

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Layers is the layering of Paved, enforced by TestLayers and drawn in
// docs/architecture.md (TestLayersDoc keeps the drawing in step). The first match of a
// package wins, so specific patterns come before general ones.
func Layers() []Layer {
	// Third-party module families the table names more than once.
	var (
		goKit      = []string{"github.com/go-kit/kit", "github.com/go-kit/log"}
		prom       = []string{"github.com/prometheus/client_golang", "github.com/prometheus/client_model", "github.com/prometheus/common"}
		otel       = []string{"go.opentelemetry.io/otel", "go.opentelemetry.io/contrib"}
		grpc       = []string{"google.golang.org/grpc", "google.golang.org/protobuf"}
		transports = []string{"transport/httptransport", "transport/grpctransport"}
	)
	return []Layer{
		// The shared vocabulary: the standard library only.
		{Package: "problem", Why: "RFC 9457 problems and field errors, the standard library only"},
		// Capabilities that import nothing else of ours but the vocabulary.
		{Package: "catalog", Paved: []string{"problem"}, Why: "the catalog's types: no I/O"},
		{Package: "compliance", Paved: []string{"catalog", "problem"}, Why: "rules and facts"},
		{Package: "compliance/k8sfacts", Paved: []string{"compliance", "internal/k8s"}, Why: "the kubernetes-manifests facts of a running service read from its manifests, linked by a main that uses them"},
		{Package: "health", Paved: []string{"problem"}, ThirdParty: prom, Why: "checks and probes"},
		{Package: "health/checks", Why: "ready-made checks on the standard library"},
		{Package: "health/grpchealth", Paved: []string{"health"}, ThirdParty: grpc, Why: "gRPC health fed by health"},
		{Package: "resilience", ThirdParty: join(goKit, prom, []string{"github.com/sony/gobreaker", "golang.org/x/time"}), Why: "breakers, retries, limits, nothing else of ours"},
		{Package: "telemetry", ThirdParty: join(prom, otel), Why: "logging, the metrics registry and histograms, tracing and propagation, nothing else of ours"},
		{Package: "telemetry/otlpgrpc", Paved: []string{"telemetry"}, ThirdParty: join(otel, grpc), Why: "the OTLP/gRPC exporter, linked by a main that uses it"},
		{Package: "telemetry/consoletrace", Paved: []string{"telemetry"}, ThirdParty: otel, Why: "the console exporter, linked by a main that uses it"},
		{Package: "telemetry/otelexport", Paved: []string{"telemetry"}, ThirdParty: join(otel, prom, grpc), Why: "the OpenTelemetry metrics and logs export (SDKs, Prometheus and slog bridges, OTLP and console exporters), linked by a main that uses it"},
		{Package: "discovery", Paved: []string{"catalog", "problem"}, ThirdParty: join(goKit, prom, []string{"github.com/cenkalti/backoff"}), Why: "the registry contract; no backend"},
		// Backends of discovery.
		{Package: "discovery/static", Paved: []string{"discovery"}, Why: "the in-process backend"},
		{Package: "discovery/discoverytest", Paved: []string{"discovery"}, ThirdParty: goKit, Why: "the backends' conformance suite"},
		{Package: "discovery/etcd", Paved: []string{"discovery"}, ThirdParty: join([]string{"go.etcd.io/etcd", "go.uber.org/zap"}, grpc), Why: "the etcd backend, a module of its own"},
		{Package: "discovery/consul/...", Paved: []string{"discovery"}, ThirdParty: []string{"github.com/hashicorp/consul"}, Why: "the Consul backend, a module of its own"},
		// Transports, over the capabilities.
		{Package: "transport", Why: "the transports' overview (documentation only)"},
		{Package: "transport/httptransport", Paved: []string{"catalog", "discovery", "problem", "resilience", "telemetry"}, ThirdParty: join(goKit, prom, otel), Why: "HTTP servers and clients, and their instrumentation (spans, metrics, go-kit)"},
		{Package: "transport/grpctransport/grpcreflection", Paved: []string{"transport/grpctransport"}, ThirdParty: grpc, Why: "server reflection and service descriptors, linked by a main that uses them"},
		{Package: "transport/grpctransport", Paved: []string{"discovery", "resilience", "telemetry", "transport/httptransport", "health/grpchealth"}, ThirdParty: join(goKit, prom, otel, grpc), Why: "gRPC servers and clients and their instrumentation, sharing HTTP's request ids and endpoint tracing"},
		{Package: "transport/messaging/natsjs", Paved: []string{"catalog", "compliance", "health", "resilience", "service", "telemetry"}, ThirdParty: join([]string{"github.com/nats-io/nats.go", "github.com/nats-io/nuid"}, prom, otel), Why: "messaging on NATS JetStream, a module of its own; above service, whose APIs, uses and compliance facts it registers its event flows with"},
		// The catalog's client, a discovery backend.
		{Package: "catalog/client", Paved: []string{"catalog", "discovery"}, ThirdParty: goKit, Why: "the catalog's Go client, a discovery backend"},
		// The composition root.
		{Package: "service", Paved: join([]string{"catalog", "catalog/client", "compliance", "discovery", "discovery/static", "health/...", "problem", "resilience", "telemetry"}, transports),
			ThirdParty: join([]string{"github.com/caarlos0/env"}, prom, otel), Why: "wires the capabilities; nothing imports it but programs"},
		{Package: "service/profiler", Why: "Go's HTTP profiler (net/http/pprof), linked by a main that serves /debug/pprof/: its init's handlers on http.DefaultServeMux stay out of every other service"},
		// The catalog server and its stores: modules of their own, beside the catalog.
		{Package: "catalog/store", Paved: []string{"catalog"}, Why: "the store contract"},
		{Package: "catalog/store/...", Paved: []string{"catalog", "catalog/store/..."}, ThirdParty: join([]string{"go.etcd.io/bbolt", "go.etcd.io/etcd"}, grpc), Why: "the stores (etcd's renewals on its gRPC connection)"},
		{Package: "catalog/server/apicheck", Paved: []string{"catalog"}, ThirdParty: []string{"github.com/oasdiff/oasdiff", "github.com/getkin/kin-openapi", "google.golang.org/protobuf"}, Why: "the breaking-change check of API definitions (oasdiff for OpenAPI), one home for the catalog and paved, outside the core module"},
		{Package: "catalog/server/...", Paved: []string{"catalog", "catalog/store", "catalog/server/...", "compliance", "problem", "transport/httptransport"}, ThirdParty: join([]string{"golang.org/x/time"}, prom), Why: "the catalog's API and UI (bodies decoded by httptransport's strict decoder)"},
		// Programs.
		{Package: "cmd/catalog", Paved: []string{"catalog/...", "compliance", "discovery/...", "health/...", "service", "service/profiler", "telemetry"}, ThirdParty: prom, Why: "the catalog program"},
		{Package: "cmd/paved/...", Paved: []string{"catalog", "catalog/server/apicheck", "compliance", "health", "internal/k8s", "problem", "service", "service/profiler", "telemetry", "cmd/paved/..."}, ThirdParty: join(prom, []string{"golang.org/x/mod", "go.yaml.in/yaml/v3"}), Why: "the paved tool"},
		{Package: "examples/...", Paved: join([]string{"service", "health/...", "resilience", "discovery/...", "telemetry", "telemetry/otelexport", "examples/...", "transport/messaging/natsjs", "service/profiler"}, transports), ThirdParty: join(goKit, otel, []string{"github.com/nats-io/nats.go", "github.com/nats-io/nats-server/v2"}), Why: "example services, as a team writes them: a module of their own, as they link the NATS binding (and the quickstart a NATS server)"},
		{Package: "bench/...", Paved: []string{"..."}, ThirdParty: join(goKit, prom, otel, grpc), Why: "benchmarks measure anything"},
		{Package: "internal/k8s", Paved: []string{"compliance"}, ThirdParty: []string{"go.yaml.in/yaml/v3"}, Why: "Kubernetes manifests read and their compliance facts, one home for paved and compliance/k8sfacts"},
		{Package: "internal/...", ThirdParty: prom, Why: "test helpers and tests"},
	}
}
