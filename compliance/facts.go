package compliance

import (
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
)

// Environments a service runs in, the values of SERVICE_ENV.
const (
	EnvDevelopment = "development"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

// Tracing exporters, the values of [Facts.TracingExporter].
const (
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// Registration backends, the values of [Facts.Registry].
const (
	RegistryCatalog = "catalog"
	RegistryEtcd    = "etcd"
	RegistryConsul  = "consul"
	RegistryNone    = "none"
)

// Facts is what a running service actually wired, as the rules see it. The service fills
// it from what it set up, not from what a team declares, wherever that can be observed;
// only the catalog metadata (owner, description, tier, lifecycle, links, dependsOn) is
// declared. Its JSON form (durations in nanoseconds) is for debugging output.
//
// The zero value of every field means "not observed" or "not set": an empty string, a
// zero duration, false, a nil slice. Facts is a plain value: safe for concurrent reads.
type Facts struct {
	// Name is the component name. It labels the report; no rule checks it.
	Name string `json:"name,omitempty"`
	// Owner is the owning team.
	Owner string `json:"owner,omitempty"`
	// Description says in a sentence what the component does.
	Description string `json:"description,omitempty"`
	// Tier is how critical the component is, 1 (most) to 4 (least); 0 means unset.
	Tier int `json:"tier,omitempty"`
	// Lifecycle is experimental, production or deprecated; empty means unset.
	Lifecycle string `json:"lifecycle,omitempty"`
	// Labels are the component's catalog labels; scorecards select on them.
	Labels map[string]string `json:"labels,omitempty"`
	// Links are the component's declared URLs.
	Links Links `json:"links,omitzero"`
	// DependsOn names the components this one declares it calls (catalog metadata).
	DependsOn []string `json:"dependsOn,omitempty"`

	// Environment is development, staging or production. Empty counts as development,
	// the default of SERVICE_ENV; any other value counts as outside development.
	Environment string `json:"environment,omitempty"`
	// Version is the version of the running build; see [IsPlaceholderVersion].
	Version string `json:"version,omitempty"`
	// Revision is the VCS revision of the build, when stamped.
	Revision string `json:"revision,omitempty"`

	// ReadinessChecks names the checks registered on /readyz.
	ReadinessChecks []string `json:"readinessChecks,omitempty"`
	// LivenessChecks lists the checks registered on /livez.
	LivenessChecks []Check `json:"livenessChecks,omitempty"`

	// MetricsServed reports that /metrics is served.
	MetricsServed bool `json:"metricsServed,omitempty"`
	// MetricsAddr is the address /metrics is served on, such as "127.0.0.1:9090".
	MetricsAddr string `json:"metricsAddr,omitempty"`
	// SignalsExported lists the metrics and logs pushed over OpenTelemetry, such as
	// "metrics:otlp/http/protobuf" or "logs:console" (OTEL_METRICS_EXPORTER,
	// OTEL_LOGS_EXPORTER); empty means none.
	SignalsExported []string `json:"signalsExported,omitempty"`
	// TracingExporter is the trace exporter in force: otlp, console or none (or another
	// exporter's name); empty means not observed.
	TracingExporter string `json:"tracingExporter,omitempty"`

	// HTTPAddr is the address the public HTTP server listens on; empty means none.
	HTTPAddr string `json:"httpAddr,omitempty"`
	// GRPCAddr is the address the public gRPC server listens on; empty means none.
	GRPCAddr string `json:"grpcAddr,omitempty"`
	// AdminAddr is the address the admin server listens on; empty means none.
	AdminAddr string `json:"adminAddr,omitempty"`
	// PprofEnabled reports that /debug/pprof/ is served.
	PprofEnabled bool `json:"pprofEnabled,omitempty"`

	// Dependencies lists the outbound dependencies as built: clients made through Paved,
	// and any others the service observed.
	Dependencies []Dependency `json:"dependencies,omitempty"`

	// Consumers lists the message consumers the service runs, as a messaging transport
	// (transport/messaging/natsjs) reports them; nil means none.
	Consumers []Consumer `json:"consumers,omitempty"`

	// APIs lists the API contracts the service publishes.
	APIs []API `json:"apis,omitempty"`
	// HTTPRoutes lists the patterns of the routes on the public HTTP server, as Go's
	// ServeMux takes them ("GET /orders/{id}"); nil means not observed (the service
	// serves a handler of its own).
	HTTPRoutes []string `json:"httpRoutes,omitempty"`

	// ShutdownTimeout is the graceful shutdown budget; 0 means unset.
	ShutdownTimeout time.Duration `json:"shutdownTimeout,omitempty"`
	// DrainDelay is the time between readiness failing and the servers closing.
	DrainDelay time.Duration `json:"drainDelay,omitempty"`
	// Server holds the public HTTP server's limits.
	Server ServerLimits `json:"server,omitzero"`

	// Registry is the registration backend: catalog, etcd, consul or none; empty means
	// not observed.
	Registry string `json:"registry,omitempty"`

	// Kubernetes is what the Kubernetes manifests that run the service say about its
	// pods; nil means not observed (the service was not told where they are).
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
}

// Links are the component's declared URLs: [catalog.Links], the one Links type of Paved.
type Links = catalog.Links

// Check is a registered health check.
type Check struct {
	// Name is the check's name.
	Name string `json:"name"`
	// Dependency reports that the check probes something outside the process (a
	// database, another service), as opposed to the process's own state.
	Dependency bool `json:"dependency,omitempty"`
}

// Dependency is an outbound dependency as built.
type Dependency struct {
	// Name is the component called, as in the catalog.
	Name string `json:"name"`
	// ThroughPaved reports that the client was built by Paved's transport packages.
	ThroughPaved bool `json:"throughPaved,omitempty"`
	// Breaker reports that calls go through a circuit breaker.
	Breaker bool `json:"breaker,omitempty"`
	// Timeout bounds each call; 0 means none.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Consumer is a message consumer as the service runs it.
type Consumer struct {
	// Name names the consumer (a JetStream durable name).
	Name string `json:"name"`
	// Subject is the subject (or subject filter) it reads.
	Subject string `json:"subject,omitempty"`
	// DeadLetterSubject receives the messages whose last attempt failed; empty means
	// none: such a message is dropped (or, without a delivery limit, redelivered forever).
	DeadLetterSubject string `json:"deadLetterSubject,omitempty"`
	// MaxConcurrent bounds the handlers running at once; 0 means unbounded.
	MaxConcurrent int `json:"maxConcurrent,omitempty"`
	// Idempotent reports that the handler is declared idempotent: wrapped in the
	// transport's idempotency helper, or declared so by the team.
	Idempotent bool `json:"idempotent,omitempty"`
}

// API is an API contract the service publishes.
type API struct {
	// Name is the API's name.
	Name string `json:"name"`
	// Kind is openapi, grpc or asyncapi.
	Kind string `json:"kind"`
	// Operations are an OpenAPI document's operations, "METHOD /path" with the path
	// template as written ("GET /items/{sku}").
	Operations []string `json:"operations,omitempty"`
}

// ServerLimits are the public HTTP server's timeouts and size limits; 0 means none.
type ServerLimits struct {
	ReadHeaderTimeout time.Duration `json:"readHeaderTimeout,omitempty"` // reading request headers
	ReadTimeout       time.Duration `json:"readTimeout,omitempty"`       // reading a whole request
	WriteTimeout      time.Duration `json:"writeTimeout,omitempty"`      // writing a response
	IdleTimeout       time.Duration `json:"idleTimeout,omitempty"`       // keep-alive wait
	MaxHeaderBytes    int           `json:"maxHeaderBytes,omitempty"`    // request header size
	MaxBodyBytes      int64         `json:"maxBodyBytes,omitempty"`      // request body size
}

// Development reports whether the facts describe a development environment: Environment
// is "development" or empty.
func (f Facts) Development() bool {
	return f.Environment == "" || f.Environment == EnvDevelopment
}

// Target returns what scorecards select a component by, taken from f.
func (f Facts) Target() Target {
	return Target{Tier: f.Tier, Lifecycle: f.Lifecycle, Environment: f.Environment, Labels: f.Labels}
}

// IsPlaceholderVersion reports whether v names no real release: empty, "dev", "devel",
// "(devel)", "0.0.0", "v0.0.0", "unknown", "latest", "none", "local", "snapshot", any
// version containing "SNAPSHOT" (in any case), or one ending in "+dirty" (a build from
// a modified work tree). A Go pseudo-version such as v0.0.0-20261125-abcdef123456
// names a commit and is not a placeholder.
func IsPlaceholderVersion(v string) bool {
	s := strings.ToLower(strings.TrimSpace(v))
	switch s {
	case "", "dev", "devel", "(devel)", "development", "0.0.0", "v0.0.0", "unknown", "latest", "none", "local":
		return true
	}
	return strings.Contains(s, "snapshot") || strings.HasSuffix(s, "+dirty")
}
