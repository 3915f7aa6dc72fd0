package service

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paved-road/paved/catalog"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/telemetry"
)

// Environments a service can run in, the values of SERVICE_ENV.
const (
	EnvDevelopment = "development"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

// Registry backends, the values of REGISTRY.
const (
	RegistryCatalog = "catalog"
	RegistryEtcd    = "etcd"
	RegistryConsul  = "consul"
	RegistryNone    = "none"
)

// Compliance modes, the values of COMPLIANCE_MODE.
const (
	ComplianceReport  = "report"
	ComplianceEnforce = "enforce"
	ComplianceOff     = "off"
)

// Config holds the settings every Paved service reads from its environment. Embed it in
// a team's own config struct and load both with [Load]:
//
//	type Config struct {
//		service.Config
//		Greeting string `env:"GREETING" envDefault:"Hello"`
//	}
//
// Each field names its variable in its env tag; the default is in envDefault. Fields
// tagged secret:"true" (and any variable whose name holds TOKEN, SECRET, PASSWORD,
// PASSWD, CREDENTIAL or PRIVATE_KEY) are never shown: not in errors, logs or /config.
// docs/configuration.md is generated from these tags.
type Config struct {
	// Name is the service's component name; it overrides Info.Name when set.
	Name string `env:"SERVICE_NAME" desc:"Component name; overrides Info.Name. A DNS label: lower-case letters, digits and '-', 1 to 63 characters."`
	// Version is the version being run; it overrides Info.Version and the module version.
	Version string `env:"SERVICE_VERSION" desc:"Version of the running build; overrides Info.Version and the Go module version."`
	// InstanceID identifies this process among the service's instances; generated when empty.
	InstanceID string `env:"SERVICE_INSTANCE_ID" desc:"Identifier of this instance (a pod name, say); generated from the host name and random bits when empty."`
	// Env is the environment: development, staging or production.
	Env string `env:"SERVICE_ENV" envDefault:"development" desc:"Environment: development, staging or production."`

	// HTTPAddr is the public HTTP address.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080" desc:"Public HTTP listen address (host:port; port 0 picks a free one)."`
	// AdminAddr is the admin address (probes, metrics, info, config, pprof); it must differ from HTTPAddr.
	AdminAddr string `env:"ADMIN_ADDR" envDefault:":9090" desc:"Admin listen address for probes, /metrics, /info, /config, /compliance and pprof; must differ from HTTP_ADDR."`
	// GRPCAddr is the gRPC address; empty means no gRPC server.
	GRPCAddr string `env:"GRPC_ADDR" desc:"gRPC listen address, for a service that calls Service.GRPC (which needs it); set on a service that registers no gRPC server it is a configuration error (exit 2)."`

	// LogLevel is the minimum log level: debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info" desc:"Minimum log level: debug, info, warn or error."`
	// LogFormat is json or text.
	LogFormat string `env:"LOG_FORMAT" envDefault:"json" desc:"Log format: json or text."`

	// StartTimeout bounds the start hooks together.
	StartTimeout time.Duration `env:"START_TIMEOUT" envDefault:"30s" desc:"Time allowed for all start hooks together."`
	// ShutdownTimeout bounds the graceful stop after the drain delay: server shutdown, stop hooks and flushes.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s" desc:"Time allowed, after the drain delay, for in-flight requests, members and stop hooks; when it runs out, connections still busy are closed (logged at error level, exit code 0). The trace flush has its own bound on top (OTEL_EXPORTER_OTLP_TIMEOUT, at most 5s)."`
	// DrainDelay is how long the servers keep serving after readiness fails, so load
	// balancers take the instance out before it stops accepting connections.
	DrainDelay time.Duration `env:"DRAIN_DELAY" envDefault:"5s" desc:"Time between readiness turning 503 and the servers closing, so load balancers stop sending traffic first."`

	// HTTPReadHeaderTimeout bounds reading request headers.
	HTTPReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" envDefault:"5s" desc:"Time allowed to read a request's headers."`
	// HTTPReadTimeout bounds reading a whole request, body included.
	HTTPReadTimeout time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"30s" desc:"Time allowed to read a whole request, body included."`
	// HTTPWriteTimeout bounds writing a response; 0 means none.
	HTTPWriteTimeout time.Duration `env:"HTTP_WRITE_TIMEOUT" envDefault:"60s" desc:"Time allowed from the end of the request headers to the end of the response; 0 means no limit."`
	// HTTPIdleTimeout bounds how long a keep-alive connection waits for its next request.
	HTTPIdleTimeout time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"120s" desc:"Time a keep-alive connection may wait for its next request."`
	// HTTPMaxHeaderBytes bounds the size of request headers.
	HTTPMaxHeaderBytes int `env:"HTTP_MAX_HEADER_BYTES" envDefault:"65536" desc:"Largest request header block accepted, in bytes."`
	// HTTPMaxBodyBytes bounds the size of request bodies on the public server.
	HTTPMaxBodyBytes int64 `env:"HTTP_MAX_BODY_BYTES" envDefault:"1048576" desc:"Largest request body accepted on the public server, in bytes."`

	// HTTPMaxConcurrent bounds requests served at once on the public server; 0 means no limit.
	HTTPMaxConcurrent int `env:"HTTP_MAX_CONCURRENT" envDefault:"0" desc:"Most requests served at once on the public server; the rest get 503 with Retry-After. 0 means no limit."`
	// AccessLogSample is the share of successful requests written to the access log.
	AccessLogSample float64 `env:"ACCESS_LOG_SAMPLE" envDefault:"0" desc:"Share of successful requests written to the access log, 0 to 1; 5xx answers are always logged."`

	// Registry is the service registry backend: catalog, etcd, consul or none. Empty
	// means catalog when CatalogURL is set and none otherwise.
	Registry string `env:"REGISTRY" desc:"Registry backend: catalog, etcd, consul or none; empty means catalog when CATALOG_URL is set, else none."`
	// RegistryTTL is how long a registration lives without a heartbeat; heartbeats go every TTL/3.
	RegistryTTL time.Duration `env:"REGISTRY_TTL" envDefault:"30s" desc:"How long a registration lives without a heartbeat; heartbeats are sent every third of it."`
	// DiscoveryStatic lists fixed instances of dependencies, which win over the registry.
	DiscoveryStatic string `env:"DISCOVERY_STATIC" desc:"Fixed instances of dependencies, such as inventory=127.0.0.1:8081,127.0.0.1:8082;pricing=10.0.0.7:8080; they win over the registry's."`
	// AdvertiseHost is the host registered for listeners bound to every interface.
	AdvertiseHost string `env:"ADVERTISE_HOST" desc:"Host name or IP registered for addresses bound to every interface (such as :8080); the host name when empty. In Kubernetes, the pod IP."`
	// CatalogURL is the catalog's base URL, such as http://catalog:8080.
	CatalogURL string `env:"CATALOG_URL" desc:"Base URL of the Paved catalog (http or https)."`
	// CatalogToken is the bearer token for catalog writes.
	CatalogToken string `env:"CATALOG_TOKEN" secret:"true" desc:"Bearer token the service registers with in the catalog."`
	// EtcdEndpoints lists etcd client URLs for REGISTRY=etcd.
	EtcdEndpoints []string `env:"ETCD_ENDPOINTS" envSeparator:"," desc:"Comma-separated etcd client URLs, for REGISTRY=etcd."`

	// PprofEnabled serves /debug/pprof/ on the admin address.
	PprofEnabled bool `env:"PPROF_ENABLED" envDefault:"false" desc:"Serve /debug/pprof/ on the admin address; the main must link the profiler, service.WithProfiler(profiler.Register)."`
	// ComplianceMode is report (evaluate and log), enforce (refuse to start when a required rule fails) or off.
	ComplianceMode string `env:"COMPLIANCE_MODE" envDefault:"report" desc:"report: evaluate and log; enforce: refuse to start when a required rule fails; off."`

	// Tracing is the tracing configuration read from the standard OTEL_* variables by
	// [Load]; see telemetry.TracingConfigFromEnv. When Load did not fill it, [New] reads
	// the process environment.
	Tracing telemetry.TracingConfig `env:"-"`
	// tracingLoaded records that Load filled Tracing.
	tracingLoaded bool
}

// Base returns c itself. Through embedding it lets [Main] and [Load] find the service
// settings inside a team's own config struct.
func (c *Config) Base() *Config { return c }

// EffectiveRegistry is the registry backend in force: Registry when set, else catalog
// when CatalogURL is set, else none.
func (c *Config) EffectiveRegistry() string {
	if c.Registry != "" {
		return c.Registry
	}
	if c.CatalogURL != "" {
		return RegistryCatalog
	}
	return RegistryNone
}

// validate appends one problem per invalid setting to p.
func (c *Config) validate(p *problems) {
	if c.Name != "" {
		if err := validateDNSLabel(c.Name); err != "" {
			p.add("SERVICE_NAME", c.Name, err)
		}
	}
	p.enum("SERVICE_ENV", c.Env, EnvDevelopment, EnvStaging, EnvProduction)
	p.addr("HTTP_ADDR", c.HTTPAddr, false)
	p.addr("ADMIN_ADDR", c.AdminAddr, false)
	p.addr("GRPC_ADDR", c.GRPCAddr, true)
	if c.HTTPAddr != "" && c.HTTPAddr == c.AdminAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
		p.add("ADMIN_ADDR", c.AdminAddr, "must differ from HTTP_ADDR: admin endpoints never share the public port")
	}
	if c.GRPCAddr != "" && !strings.HasSuffix(c.GRPCAddr, ":0") && (c.GRPCAddr == c.HTTPAddr || c.GRPCAddr == c.AdminAddr) {
		p.add("GRPC_ADDR", c.GRPCAddr, "must differ from HTTP_ADDR and ADMIN_ADDR")
	}
	if _, err := telemetry.ParseLevel(c.LogLevel); err != nil {
		p.add("LOG_LEVEL", c.LogLevel, "must be debug, info, warn or error")
	}
	p.enum("LOG_FORMAT", strings.ToLower(c.LogFormat), "json", "text")
	p.positive("START_TIMEOUT", c.StartTimeout)
	p.positive("SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	p.nonNegative("DRAIN_DELAY", c.DrainDelay)
	p.positive("HTTP_READ_HEADER_TIMEOUT", c.HTTPReadHeaderTimeout)
	p.nonNegative("HTTP_READ_TIMEOUT", c.HTTPReadTimeout)
	p.nonNegative("HTTP_WRITE_TIMEOUT", c.HTTPWriteTimeout)
	p.nonNegative("HTTP_IDLE_TIMEOUT", c.HTTPIdleTimeout)
	if c.HTTPMaxHeaderBytes < 1024 && !p.skip("HTTP_MAX_HEADER_BYTES") {
		p.add("HTTP_MAX_HEADER_BYTES", strconv.Itoa(c.HTTPMaxHeaderBytes), "must be at least 1024")
	}
	if c.HTTPMaxBodyBytes < 1 && !p.skip("HTTP_MAX_BODY_BYTES") {
		p.add("HTTP_MAX_BODY_BYTES", strconv.FormatInt(c.HTTPMaxBodyBytes, 10), "must be at least 1")
	}
	if c.HTTPMaxConcurrent < 0 && !p.skip("HTTP_MAX_CONCURRENT") {
		p.add("HTTP_MAX_CONCURRENT", strconv.Itoa(c.HTTPMaxConcurrent), "must be 0 (no limit) or more")
	}
	if c.AccessLogSample < 0 || c.AccessLogSample > 1 {
		p.add("ACCESS_LOG_SAMPLE", strconv.FormatFloat(c.AccessLogSample, 'g', -1, 64), "must be a number from 0 to 1")
	}
	if c.Registry != "" {
		p.enum("REGISTRY", c.Registry, RegistryCatalog, RegistryEtcd, RegistryConsul, RegistryNone)
	}
	if c.RegistryTTL < 3*time.Second && !p.skip("REGISTRY_TTL") {
		p.add("REGISTRY_TTL", c.RegistryTTL.String(), "must be at least 3s (heartbeats go every third of it)")
	}
	if c.CatalogURL != "" {
		p.url("CATALOG_URL", c.CatalogURL, "http://catalog:8080")
	}
	switch c.EffectiveRegistry() {
	case RegistryCatalog:
		if c.CatalogURL == "" {
			p.add("CATALOG_URL", "", "must be set when REGISTRY=catalog")
		}
	case RegistryEtcd:
		if len(c.EtcdEndpoints) == 0 {
			p.add("ETCD_ENDPOINTS", "", "must list at least one endpoint when REGISTRY=etcd")
		}
	}
	for _, e := range c.EtcdEndpoints {
		if strings.Contains(e, "://") {
			p.url("ETCD_ENDPOINTS", e, "http://127.0.0.1:2379")
		} else if _, _, err := net.SplitHostPort(e); err != nil {
			p.add("ETCD_ENDPOINTS", e, "each endpoint must be a URL such as http://127.0.0.1:2379 or a host:port")
		}
	}
	p.enum("COMPLIANCE_MODE", c.ComplianceMode, ComplianceReport, ComplianceEnforce, ComplianceOff)
	if c.DiscoveryStatic != "" {
		if _, err := static.Parse(c.DiscoveryStatic); err != nil {
			p.add("DISCOVERY_STATIC", c.DiscoveryStatic, err.Error())
		}
	}
}

// problems collects configuration problems; secret names which variables' values must
// never be shown.
type problems struct {
	list   []Problem
	secret func(key string) bool
	// unparsed holds the variables whose value could not be parsed: their zero value
	// is not checked again.
	unparsed map[string]bool
}

// add reports a problem with key's value. The value is shown as [shownValue] says
// (secrets redacted, URL user information hidden), then cut to 64 characters; the
// message has URL user information hidden too, since it may quote a value.
func (p *problems) add(key, value, msg string) {
	secret := p.secret != nil && p.secret(key)
	p.list = append(p.list, Problem{Var: key, Value: truncate(shownValue(secret, value)), Msg: telemetry.RedactURL(msg)})
}

// configError returns a *ConfigError of one problem, shown as [problems.add] shows it.
func configError(key, value, msg string) *ConfigError {
	p := &problems{secret: IsSecretName}
	p.add(key, value, msg)
	return &ConfigError{Problems: p.list}
}

// scrub replaces, in every value and message of p, each of the secret values given: the
// last guard for free-form errors (a team's Validate returning fmt.Errorf with a
// token in it). Values shorter than 4 characters are left alone, as replacing them
// would garble the messages more than it would protect.
func (p *problems) scrub(secrets []string) {
	for i := range p.list {
		for _, s := range secrets {
			if len(s) < 4 {
				continue
			}
			p.list[i].Value = strings.ReplaceAll(p.list[i].Value, s, redacted)
			p.list[i].Msg = strings.ReplaceAll(p.list[i].Msg, s, redacted)
		}
	}
}

// addMsg reports a problem that names no single variable's value, such as an error a
// team's Validate returned as is.
func (p *problems) addMsg(key, msg string) {
	p.list = append(p.list, Problem{Var: key, Msg: telemetry.RedactURL(msg)})
}

// addUnparsed reports a value that could not be parsed, and remembers it so that
// validation does not report the field's zero value as well.
func (p *problems) addUnparsed(key, value, msg string) {
	if p.unparsed == nil {
		p.unparsed = map[string]bool{}
	}
	p.unparsed[key] = true
	p.add(key, value, msg)
}

// skip reports whether key's value could not be parsed.
func (p *problems) skip(key string) bool { return p.unparsed[key] }

func (p *problems) enum(key, value string, valid ...string) {
	if p.skip(key) {
		return
	}
	for _, v := range valid {
		if value == v {
			return
		}
	}
	p.add(key, value, "must be one of "+strings.Join(valid, ", "))
}

func (p *problems) addr(key, value string, optional bool) {
	if value == "" {
		if !optional {
			p.add(key, value, "must be set to a listen address such as :8080 or 127.0.0.1:8080")
		}
		return
	}
	host, port, err := net.SplitHostPort(value)
	if err != nil {
		p.add(key, value, "must be a listen address host:port such as :8080 or 127.0.0.1:8080")
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		p.add(key, value, "port must be a number from 0 to 65535")
	}
	if host != "" && strings.ContainsAny(host, " /?#") {
		p.add(key, value, "host must be a name or an IP address")
	}
}

func (p *problems) url(key, value, example string) {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(key, value, "must be an absolute http or https URL such as "+example)
	}
}

func (p *problems) positive(key string, d time.Duration) {
	if p.skip(key) {
		return
	}
	if d <= 0 {
		p.add(key, d.String(), "must be a positive duration such as 500ms, 30s or 2m")
	}
}

func (p *problems) nonNegative(key string, d time.Duration) {
	if p.skip(key) {
		return
	}
	if d < 0 {
		p.add(key, d.String(), "must be zero or a positive duration such as 500ms, 30s or 2m")
	}
}

// validateDNSLabel returns what is wrong with s as a DNS label ([catalog.IsDNSLabel]),
// or "".
func validateDNSLabel(s string) string {
	if !catalog.IsDNSLabel(s) {
		return "must be a DNS label: " + catalog.DNSLabelRule
	}
	return ""
}
