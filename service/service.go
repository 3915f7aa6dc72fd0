package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/discovery"
	"github.com/paved-road/paved/discovery/static"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/resilience"
	"github.com/paved-road/paved/telemetry"
	"github.com/paved-road/paved/transport/grpctransport"
	"github.com/paved-road/paved/transport/httptransport"
)

// ErrAlreadyRun is returned by [Service.Run] when it is called a second time.
var ErrAlreadyRun = errors.New("service: Run called twice")

// Service is a running Paved service: its identity, settings, logger, metrics registry,
// tracer provider, public handlers, hooks and long-running members, and the admin server
// that serves probes, metrics and facts about it. Build one with [New], add handlers and
// hooks, then call [Service.Run]; or let [Main] do all of it.
//
// Handlers, hooks and members must be added before Run; the accessors are safe for
// concurrent use at any time.
type Service struct {
	info       Info
	cfg        *Config
	full       any
	build      BuildInfo
	instanceID string
	logger     *slog.Logger
	registry   *prometheus.Registry
	tracer     trace.TracerProvider
	ownsTracer bool
	// traceExporters are the exporters the main linked in (WithTraceExporter).
	traceExporters []telemetry.Exporter
	tracing        *telemetry.Tracing
	// profiler registers /debug/pprof/ on the admin mux (WithProfiler); nil: not linked.
	profiler func(*http.ServeMux)
	// otelSignals is the metrics and logs export the main linked in (WithOTelExport).
	otelSignals *telemetry.Signals
	// manifests reads the Kubernetes facts (WithManifests); kube is what it read at New.
	manifests ManifestReader
	kube      *compliance.Kubernetes
	// signals runs the metrics and logs export; nil when nothing is pushed.
	signals    telemetry.SignalExport
	propagator propagation.TextMapPropagator
	mux        *http.ServeMux
	handler    http.Handler
	// httpListener wraps the public HTTP server's listener (WrapHTTPListener).
	httpListener []func(net.Listener) net.Listener
	adminMux     *http.ServeMux
	logOutput    io.Writer
	startTime    time.Time

	hooks   []Hook
	members []member
	servers []namedServer

	state atomic.Int32
	// failing holds the readiness checks failing at the last evaluation behind a
	// heartbeat, comma separated ("" when none).
	failing atomic.Pointer[string]
	ran     atomic.Bool
	readyCh chan struct{}

	// mu guards the addresses, known once the listeners are bound, and extra.
	mu        sync.Mutex
	httpAddr  net.Addr
	adminAddr net.Addr
	extra     map[string]func() any
	boundGRPC string
	// grpcServer is the server GRPC made, if any.
	grpcServer *grpctransport.Server
	factFuncs  []FactsFunc
	report     compliance.Report
	hasReport  bool

	rules compliance.RuleSet

	health     *health.Registry
	resilience *resilience.Set
	backends   map[string]registryBackend
	registrar  discovery.Registrar
	// builtRegistrar is the registrar a backend built, closed at the stop.
	builtRegistrar discovery.Registrar
	// static holds the DISCOVERY_STATIC instances by dependency.
	static map[string][]discovery.Instance
	// closers are closed (in reverse) after the stop hooks: clients and instancers.
	closers []func() error
	// deps records the dependencies built with Client.
	deps httptransport.Dependencies
	// apis are the published APIs, guarded by mu.
	apis []publishedAPI
	// usedAPIs are the APIs recorded with UseAPI, guarded by mu.
	usedAPIs []string
	// routes are the patterns given to Handle and HandleFunc, guarded by mu.
	routes []string
	// grpcReflection is the reflection the main linked (WithGRPCReflection).
	grpcReflection grpctransport.Reflection
}

// Lifecycle states reported by /info.
const (
	stateStarting int32 = iota
	stateReady
	stateStopping
	stateStopped
)

var stateNames = [...]string{"starting", "ready", "stopping", "stopped"}

// Hook is a named pair of functions run by [Service.Run]: OnStart in the order hooks
// were added, before the public servers start, under START_TIMEOUT; OnStop in reverse
// order after the servers have shut down, only for hooks whose OnStart succeeded (or
// that have none), and every one of them even when an earlier one fails.
type Hook struct {
	Name    string
	OnStart func(ctx context.Context) error
	OnStop  func(ctx context.Context) error
}

type member struct {
	name string
	run  func(ctx context.Context) error
}

// Server is a public server the service runs beside its HTTP server, such as a gRPC
// server adapter: Serve blocks serving l until Shutdown; Shutdown stops it gracefully,
// returning when in-flight work is done or ctx ends (it must then stop forcibly).
type Server interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
}

type namedServer struct {
	name string
	// setting names the variable addr came from, for errors; empty for AddServer.
	setting string
	addr    string
	srv     Server
}

// Option configures [New].
type Option func(*Service)

// WithLogger makes the service log to l instead of building its own logger from
// LOG_FORMAT and LOG_LEVEL. A nil l discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.logger = telemetry.OrDiscard(l) }
}

// WithLogOutput makes the service's own logger write to w instead of os.Stderr.
func WithLogOutput(w io.Writer) Option {
	return func(s *Service) { s.logOutput = w }
}

// WithConfig gives the whole configuration struct (a team's own, embedding Config) so
// that /config shows every setting, not just the base ones. [Main] passes it.
func WithConfig(full any) Option {
	return func(s *Service) { s.full = full }
}

// WithRules makes the service evaluate set instead of compliance.DefaultRuleSet().
func WithRules(set compliance.RuleSet) Option {
	return func(s *Service) { s.rules = set }
}

// WithTracerProvider makes the service use tp instead of the provider it would build
// from the OTEL_* variables.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *Service) { s.tracer = tp }
}

// WithTraceExporter links a span exporter that the telemetry package does not build
// itself into the service's tracer provider: otlpgrpc.Exporter() (package
// github.com/paved-road/paved/telemetry/otlpgrpc) for OTEL_EXPORTER_OTLP_PROTOCOL=grpc,
// consoletrace.Exporter() for OTEL_TRACES_EXPORTER=console. A service that does not
// link one does not carry its code; a setting that needs one it did not link is a
// configuration error naming this line.
func WithTraceExporter(e telemetry.Exporter) Option {
	return func(s *Service) { s.traceExporters = append(s.traceExporters, e) }
}

// WithOTelExport links the OpenTelemetry metrics and logs export,
// otelexport.Signals() (package github.com/paved-road/paved/telemetry/otelexport), for
// OTEL_METRICS_EXPORTER=otlp or console and OTEL_LOGS_EXPORTER=otlp or console. A
// service that does not link it does not carry the OpenTelemetry metrics and logs SDKs;
// a setting that needs it in a service that did not link it is a configuration error
// naming this line.
func WithOTelExport(sig telemetry.Signals) Option {
	return func(s *Service) { s.otelSignals = &sig }
}

// WithProfiler links Go's HTTP profiler: pass profiler.Register (package
// github.com/paved-road/paved/service/profiler), which the service calls on its admin
// mux when PPROF_ENABLED=true. A service that does not link it carries none of the
// profiler's code (nor net/http/pprof's handlers on http.DefaultServeMux), and
// PPROF_ENABLED=true there is a configuration error naming this line.
func WithProfiler(register func(mux *http.ServeMux)) Option {
	return func(s *Service) { s.profiler = register }
}

// ManifestReader returns the [compliance.Kubernetes] facts of the Deployment that runs
// the service named name, read from the manifests it was built around:
// k8sfacts.FS(deploy) or k8sfacts.Dir(path) (package
// github.com/paved-road/paved/compliance/k8sfacts).
type ManifestReader func(name string) (*compliance.Kubernetes, error)

// WithManifests tells the service where its Kubernetes manifests are, so that the
// compliance rule kubernetes-manifests is evaluated in /compliance and in the catalog's
// scorecard against the settings the service really runs with (probes and metrics on
// ADMIN_ADDR, the grace period over DRAIN_DELAY and SHUTDOWN_TIMEOUT, resources,
// securityContext). A team embeds its deploy/ directory and links the reader:
//
//	//go:embed deploy
//	var deploy embed.FS
//	service.Main(info, setup, service.WithManifests(k8sfacts.FS(deploy)))
//
// [New] reads them once; manifests that do not parse, or hold no Deployment for the
// service, are a configuration error. A service that does not link a reader does not
// carry the YAML decoder, and the rule is "not applicable".
func WithManifests(read ManifestReader) Option {
	return func(s *Service) { s.manifests = read }
}

// New builds a service from its identity and settings: it resolves the name, version and
// instance id, and builds the logger and the metrics registry. It starts nothing; call
// [Service.Run]. New validates cfg and info the way [Load] would and returns a
// *[ConfigError] listing every problem.
func New(info Info, cfg *Config, opts ...Option) (*Service, error) {
	if cfg == nil {
		return nil, errors.New("service: New needs a *Config; load one with service.Load")
	}
	s := &Service{
		cfg:       cfg,
		full:      cfg,
		build:     ReadBuildInfo(),
		mux:       http.NewServeMux(),
		adminMux:  http.NewServeMux(),
		readyCh:   make(chan struct{}),
		logOutput: os.Stderr,
		extra:     map[string]func() any{},
		rules:     compliance.DefaultRuleSet(),
		backends:  map[string]registryBackend{},
	}
	s.backends[RegistryCatalog] = s.catalogBackend()
	for _, o := range opts {
		o(s)
	}

	p := &problems{secret: IsSecretName}
	cfg.validate(p)
	if cfg.Name != "" {
		info.Name = cfg.Name
	}
	if info.Name == "" {
		p.add("SERVICE_NAME", "", "must be set, or Info.Name given in code")
	} else if msg := validateDNSLabel(info.Name); msg != "" && cfg.Name == "" {
		p.add("Info.Name", info.Name, msg)
	}
	apis := checkInfoAPIs(p, info)
	if s.manifests != nil && info.Name != "" {
		k, err := s.manifests(info.Name)
		if err != nil {
			p.addMsg("service.WithManifests", err.Error())
		}
		s.kube = k
	}
	if len(p.list) > 0 {
		return nil, &ConfigError{Problems: dedupe(p.list)}
	}
	s.apis = apis
	info.Version = resolveVersion(cfg.Version, info.Version, s.build)
	if info.Type == "" {
		info.Type = "service"
	}
	s.info = info
	s.instanceID = cfg.InstanceID
	if s.instanceID == "" {
		s.instanceID = newInstanceID(info.Name)
	}
	if s.logger == nil {
		level, _ := telemetry.ParseLevel(cfg.LogLevel)
		l, err := telemetry.NewLogger(s.logOutput, telemetry.LogOptions{Format: strings.ToLower(cfg.LogFormat), Level: level},
			slog.String("service", info.Name), slog.String("version", info.Version), slog.String("instance_id", s.instanceID))
		if err != nil {
			return nil, configError("LOG_FORMAT", cfg.LogFormat, "must be json or text")
		}
		s.logger = l
	}
	s.registry = telemetry.NewRegistry(telemetry.BuildInfo{
		Service: info.Name, Version: info.Version, Revision: s.build.Revision, GoVersion: s.build.GoVersion,
	})
	resInfo := telemetry.ResourceInfo{
		ServiceName: info.Name, Version: info.Version, Namespace: info.Namespace,
		InstanceID: s.instanceID, Environment: cfg.Env,
	}
	if !cfg.tracingLoaded {
		tc, err := telemetry.TracingConfigFromEnv(os.LookupEnv)
		if err != nil {
			tp := &problems{secret: IsSecretName}
			addErrors(tp, err)
			return nil, &ConfigError{Problems: tp.list}
		}
		cfg.Tracing, cfg.tracingLoaded = tc, true
	}
	if s.tracer == nil {
		tr, err := telemetry.NewTracing(context.Background(), cfg.Tracing, resInfo, tracingOptions(s)...)
		var te *telemetry.ConfigError
		if errors.As(err, &te) {
			tp := &problems{secret: IsSecretName}
			addErrors(tp, err)
			return nil, &ConfigError{Problems: tp.list}
		}
		if err != nil {
			return nil, fmt.Errorf("service: tracing: %w", err)
		}
		s.tracing = tr
		s.tracer = tr.TracerProvider()
		s.propagator = tr.Propagator()
		s.ownsTracer = true
		// With a sampler that never samples a root span, the provider says so
		// (telemetry.DeclareRootNeverSampled) and requests without a sampled caller
		// get no span at all (the caller's context still passes through).
	}
	if s.propagator == nil {
		s.propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	// target_info: the resource the traces carry, for dashboards that join on it.
	res, err := telemetry.NewResource(context.Background(), cfg.Tracing, resInfo)
	if err != nil {
		_ = s.flush(context.Background())
		return nil, fmt.Errorf("service: %w", err)
	}
	s.registry.MustRegister(telemetry.NewTargetInfoCollector(res))
	// Metrics pushed and logs exported over OpenTelemetry, beside /metrics and the log
	// output; export failures are logged on the log output only.
	if err := telemetry.CheckSignals(cfg.Tracing, s.otelSignals != nil); err != nil {
		_ = s.flush(context.Background())
		tp := &problems{secret: IsSecretName}
		addErrors(tp, err)
		return nil, &ConfigError{Problems: tp.list}
	}
	if cfg.PprofEnabled && s.profiler == nil {
		_ = s.flush(context.Background())
		return nil, configError("PPROF_ENABLED", "true", "this program does not link the profiler: add service.WithProfiler(profiler.Register) (package github.com/paved-road/paved/service/profiler) to its main, or set PPROF_ENABLED=false")
	}
	if telemetry.ExportsSignals(cfg.Tracing) {
		level, _ := telemetry.ParseLevel(cfg.LogLevel)
		sig, err := s.otelSignals.Start(context.Background(), cfg.Tracing, res, telemetry.SignalOptions{
			Gatherer: s.registry, Level: level, Logger: s.logger,
		})
		if err != nil {
			_ = s.flush(context.Background())
			return nil, fmt.Errorf("service: %w", err)
		}
		s.signals = sig
		s.logger = slog.New(sig.LogHandler(s.logger.Handler()))
	}
	// Variables Paved reads but does not act on are said so, never dropped in silence.
	for _, v := range cfg.Tracing.Ignored {
		s.logger.Warn("OpenTelemetry variable ignored", slog.String("variable", v.Variable), slog.String("reason", v.Reason))
	}
	if reg := cfg.EffectiveRegistry(); reg != RegistryNone && s.registrar == nil && s.backends[reg].Registrar == nil {
		_ = s.flush(context.Background())
		return nil, configError("REGISTRY", reg,
			"this program has no "+reg+" backend linked in: pass service.WithRegistryBackend("+reg+".Backend()) from github.com/paved-road/paved/discovery/"+reg+" in its main, or use REGISTRY=none")
	}
	if cfg.DiscoveryStatic != "" {
		m, err := static.Parse(cfg.DiscoveryStatic)
		if err != nil {
			_ = s.flush(context.Background())
			return nil, configError("DISCOVERY_STATIC", cfg.DiscoveryStatic, err.Error())
		}
		s.static = m
	}
	hr, err := health.New(health.Options{
		Logger: s.logger, Registerer: s.registry, ServiceID: s.instanceID, Version: info.Version,
	})
	if err != nil {
		_ = s.flush(context.Background())
		return nil, fmt.Errorf("service: health: %w", err)
	}
	s.health = hr
	s.resilience = &resilience.Set{}
	if err := hr.Register(health.Check{
		Name: "breakers", Kinds: health.Readiness, NonCritical: true, Check: s.resilience.Check,
	}); err != nil {
		_ = s.flush(context.Background())
		return nil, fmt.Errorf("service: health: %w", err)
	}
	s.SetInfo("breakers", func() any { return s.resilience.Status() })
	s.AddFacts(s.healthFacts)
	s.AddFacts(s.dependencyFacts)
	s.SetInfo("dependencies", func() any { return s.deps.List() })
	s.AddFacts(s.apiFacts)
	s.SetInfo("apis", func() any { return s.APIs() })
	s.SetInfo("consumes", func() any { return s.consumes() })
	return s, nil
}

// newInstanceID returns the host name (or the service name) and 8 random hex digits.
func newInstanceID(name string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = name
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(host) + "-" + hex.EncodeToString(b[:])
}

// Info returns the service's identity with name and version resolved.
func (s *Service) Info() Info { return s.info }

// Config returns the base settings.
func (s *Service) Config() *Config { return s.cfg }

// InstanceID returns this instance's id.
func (s *Service) InstanceID() string { return s.instanceID }

// Logger returns the service's logger; every record carries service, version and
// instance_id.
func (s *Service) Logger() *slog.Logger { return s.logger }

// Registerer returns the service's own Prometheus registry, served at the admin /metrics.
func (s *Service) Registerer() prometheus.Registerer { return s.registry }

// Gatherer returns the service's registry for reading metrics back.
func (s *Service) Gatherer() prometheus.Gatherer { return s.registry }

// TracerProvider returns the service's tracer provider: built from the OTEL_*
// variables (a no-op provider when no exporter is configured) unless given with
// [WithTracerProvider]. It is never set as the global provider behind your back; call
// otel.SetTracerProvider yourself if a library needs the global one.
func (s *Service) TracerProvider() trace.TracerProvider { return s.tracer }

// Propagator returns the service's trace context propagator (W3C tracecontext and
// baggage unless OTEL_PROPAGATORS says otherwise).
func (s *Service) Propagator() propagation.TextMapPropagator { return s.propagator }

// TracingExporter names the configured span exporter ("none", "otlp", "console"), for
// the compliance facts.
func (s *Service) TracingExporter() string {
	if s.tracing == nil {
		return "external"
	}
	return s.tracing.Exporter()
}

// Health returns the service's health registry: register the checks /readyz, /livez and
// /startupz run. Readiness and startup fail until the start hooks are done and from the
// first moment of the stop; a non-critical check only warns.
func (s *Service) Health() *health.Registry { return s.health }

// Policy builds the resilience policy for calls to the named dependency, with the
// service's metrics registry and logger; its breaker shows in /info, warns on /readyz
// when open, and counts for the compliance rules on dependencies.
func (s *Service) Policy(dependency string, cfg resilience.PolicyConfig, opts ...resilience.Option) (*resilience.Policy, error) {
	opts = append([]resilience.Option{resilience.WithRegisterer(s.registry), resilience.WithLogger(s.logger)}, opts...)
	return s.resilience.NewPolicy(dependency, cfg, opts...)
}

// Policies returns the service's set of resilience policies.
func (s *Service) Policies() *resilience.Set { return s.resilience }

// Handle registers a public HTTP handler on the service's ServeMux, with Go's routing
// patterns ("GET /orders/{id}").
// The pattern counts for the compliance facts: a route missing from the service's
// OpenAPI document (Info.APIs) is a warning.
func (s *Service) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.addRoute(pattern)
}

// HandleFunc registers a public HTTP handler function on the service's ServeMux.
func (s *Service) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	s.mux.HandleFunc(pattern, h)
	s.addRoute(pattern)
}

func (s *Service) addRoute(pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = append(s.routes, pattern)
}

// SetHandler replaces the public ServeMux with h, for a service that builds its own
// router. Handlers added with Handle are then not served.
func (s *Service) SetHandler(h http.Handler) { s.handler = h }

// WrapHTTPListener makes the public HTTP server (HTTP_ADDR) accept its connections
// through f(l), where l is the listener Run binds: f may refuse or close connections
// before any byte is read (a connection cap per client address, as the catalog's), or
// wrap them. The wrapped listener's Addr must be l's; closing it must close l. Wrappers
// given by several calls apply in order, the first one innermost. Like handlers, it must
// be called before Run; the admin server and servers added with AddServer are not
// wrapped.
func (s *Service) WrapHTTPListener(f func(l net.Listener) net.Listener) {
	s.httpListener = append(s.httpListener, f)
}

// AdminHandle registers an extra handler on the admin server, such as a capability's
// own diagnostics page.
func (s *Service) AdminHandle(pattern string, h http.Handler) { s.adminMux.Handle(pattern, h) }

// Append adds a start/stop hook; see [Hook] for when each runs.
func (s *Service) Append(h Hook) { s.hooks = append(s.hooks, h) }

// OnStart adds a start hook with no stop.
func (s *Service) OnStart(name string, f func(ctx context.Context) error) {
	s.Append(Hook{Name: name, OnStart: f})
}

// OnStop adds a stop hook with no start.
func (s *Service) OnStop(name string, f func(ctx context.Context) error) {
	s.Append(Hook{Name: name, OnStop: f})
}

// Go adds a long-running member: f runs from the moment the public servers start until
// its ctx is cancelled at the graceful stop. A member that returns stops the service;
// a non-nil error becomes Run's error.
func (s *Service) Go(name string, f func(ctx context.Context) error) {
	s.members = append(s.members, member{name: name, run: f})
}

// AddServer runs srv on addr beside the public HTTP server, with the same lifecycle:
// bound after the start hooks, shut down gracefully after the drain delay.
func (s *Service) AddServer(name, addr string, srv Server) {
	s.servers = append(s.servers, namedServer{name: name, addr: addr, srv: srv})
}

// addServer is AddServer for an address that comes from the setting named setting.
func (s *Service) addServer(name, setting, addr string, srv Server) {
	s.servers = append(s.servers, namedServer{name: name, setting: setting, addr: addr, srv: srv})
}

// SetInfo adds a section to the admin /info document: f is called on every request.
func (s *Service) SetInfo(section string, f func() any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra[section] = f
}

// Ready is closed when the service has started and readiness passes.
func (s *Service) Ready() <-chan struct{} { return s.readyCh }

// HTTPAddr returns the public server's bound address, or nil before it is bound.
func (s *Service) HTTPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr
}

// AdminAddr returns the admin server's bound address, or nil before it is bound.
func (s *Service) AdminAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.adminAddr
}

// newHTTPServer returns an http.Server with every limit set from the config.
func (s *Service) newHTTPServer(h http.Handler, name string) *http.Server {
	c := s.cfg
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.HTTPReadHeaderTimeout,
		ReadTimeout:       c.HTTPReadTimeout,
		WriteTimeout:      c.HTTPWriteTimeout,
		IdleTimeout:       c.HTTPIdleTimeout,
		MaxHeaderBytes:    c.HTTPMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger.With("server", name).Handler(), slog.LevelWarn),
	}
}

// String names the service, its version and instance id.
func (s *Service) String() string {
	return fmt.Sprintf("%s %s (%s)", s.info.Name, s.info.Version, s.instanceID)
}

// tracingOptions are the options of the service's tracer provider: its logger and the
// exporters the main linked in.
func tracingOptions(s *Service) []telemetry.TracingOption {
	opts := []telemetry.TracingOption{telemetry.WithLogger(s.logger)}
	for _, e := range s.traceExporters {
		opts = append(opts, telemetry.WithExporter(e))
	}
	return opts
}
