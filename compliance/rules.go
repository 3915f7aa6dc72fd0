package compliance

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// DefaultVersion is the version of the rule set [DefaultRules] returns. It changes
// whenever a rule is added, removed, or changes what it checks, level or weight.
const DefaultVersion = "2026.12.1"

// DefaultRuleSet returns the default rules as a [RuleSet] of version [DefaultVersion].
func DefaultRuleSet() RuleSet {
	return RuleSet{version: DefaultVersion, rules: DefaultRules()}
}

// DefaultRules returns Paved's rules of what a compliant service has, in a fresh slice
// the caller may modify. docs/compliance.md documents each.
func DefaultRules() []Rule {
	return []Rule{
		{
			ID:     "owner-set",
			Title:  "An owning team is named",
			Why:    "Without an owner nobody is paged, asked or accountable when the service breaks.",
			Fix:    "Set Info.Owner to the owning team, as the catalog's tokens name it.",
			Level:  Required,
			Weight: 3,
			Check:  func(f Facts) Result { return textSet("owner", f.Owner) },
		},
		{
			ID:     "description-set",
			Title:  "A one-sentence description",
			Why:    "People browsing the catalog need to know what the service does before they call or change it.",
			Fix:    "Set Info.Description to one sentence saying what the service does.",
			Level:  Recommended,
			Weight: 1,
			Check:  func(f Facts) Result { return textSet("description", f.Description) },
		},
		{
			ID:     "tier-set",
			Title:  "A criticality tier from 1 to 4",
			Why:    "The tier says how fast an incident must be answered and which scorecards apply.",
			Fix:    "Set Info.Tier: 1 (most critical) to 4 (least).",
			Level:  Required,
			Weight: 2,
			Check:  checkTier,
		},
		{
			ID:     "lifecycle-set",
			Title:  "A lifecycle stage",
			Why:    "Callers must know whether a service is experimental, in production or deprecated before depending on it.",
			Fix:    "Set Info.Lifecycle to experimental, production or deprecated.",
			Level:  Required,
			Weight: 2,
			Check:  checkLifecycle,
		},
		{
			ID:     "version-set",
			Title:  "A real version outside development",
			Why:    "Incidents, rollbacks and traces need to say which build ran; \"devel\" or \"latest\" says nothing.",
			Fix:    "Stamp the version at build time (SERVICE_VERSION, Info.Version or a tagged module build); placeholders such as devel, 0.0.0, latest or SNAPSHOT are accepted in development only.",
			Level:  Required,
			Weight: 3,
			Check:  checkVersion,
		},
		{
			ID:     "readiness-check",
			Title:  "At least one readiness check",
			Why:    "Without one, /readyz passes as soon as the process starts and traffic arrives before the service can serve it.",
			Fix:    "Register a readiness check for what the service needs before serving, such as its database or a warmed cache.",
			Level:  Required,
			Weight: 3,
			Check:  checkReadiness,
		},
		{
			ID:     "liveness-no-dependencies",
			Title:  "Liveness checks only the process itself",
			Why:    "A liveness check that probes a dependency restarts every instance when that dependency fails, turning an outage elsewhere into one here.",
			Fix:    "Move checks of databases and other services from liveness to readiness; keep liveness to the process's own state.",
			Level:  Required,
			Weight: 3,
			Check:  checkLiveness,
		},
		{
			ID:     "metrics-served",
			Title:  "Prometheus metrics on the admin address",
			Why:    "Without metrics nobody sees error rates, latency or saturation, and alerts cannot fire.",
			Fix:    "Keep the admin server's /metrics on (the default) and serve it on ADMIN_ADDR, not the public port.",
			Level:  Required,
			Weight: 3,
			Check:  checkMetrics,
		},
		{
			ID:     "tracing-exporter",
			Title:  "Traces exported outside development",
			Why:    "Without exported traces a slow or failed request cannot be followed across services.",
			Fix:    "Set OTEL_EXPORTER_OTLP_ENDPOINT (and OTEL_TRACES_EXPORTER=otlp) to the collector; none and console are for development.",
			Level:  Recommended,
			Weight: 2,
			Check:  checkTracing,
		},
		{
			ID:     "admin-separate",
			Title:  "Admin endpoints apart from the public port",
			Why:    "Probes, metrics, configuration and pprof must not be reachable by the service's public clients.",
			Fix:    "Serve the admin endpoints on ADMIN_ADDR (default :9090), a different port from HTTP_ADDR and GRPC_ADDR.",
			Level:  Required,
			Weight: 3,
			Check:  checkAdminSeparate,
		},
		{
			ID:     "pprof-off",
			Title:  "pprof off outside development",
			Why:    "pprof exposes memory contents and lets anyone who reaches it load the CPU.",
			Fix:    "Unset PPROF_ENABLED (or set it to false) outside development; turn it on briefly, on the admin address, to investigate.",
			Level:  Required,
			Weight: 3,
			Check:  checkPprof,
		},
		{
			ID:     "dependency-through-paved",
			Title:  "Outbound clients built through Paved",
			Why:    "Clients built by hand miss trace propagation, metrics, discovery and resilience, and do not show in these facts.",
			Fix:    "Build each outbound client with Paved's transport packages (httptransport or grpctransport clients).",
			Level:  Required,
			Weight: 2,
			Check:  checkThroughPaved,
		},
		{
			ID:     "dependency-breaker",
			Title:  "A circuit breaker on every outbound dependency",
			Why:    "Without a breaker a failing dependency ties up every caller's goroutines and connections until this service fails too.",
			Fix:    "Give the dependency's client a resilience policy with a circuit breaker.",
			Level:  Required,
			Weight: 3,
			Check:  checkBreaker,
		},
		{
			ID:     "dependency-timeout",
			Title:  "A timeout on every outbound dependency",
			Why:    "A call without a timeout waits forever on a hung dependency, holding the caller's request with it.",
			Fix:    "Give the dependency's client a resilience policy with a timeout shorter than the caller's own.",
			Level:  Required,
			Weight: 3,
			Check:  checkTimeout,
		},
		{
			ID:     "dependency-declared",
			Title:  "Every outbound dependency declared in the catalog",
			Why:    "The catalog's dependency graph is how people find who is hit by an outage; an undeclared call hides an edge.",
			Fix:    "Add the dependency's component name to Info.DependsOn.",
			Level:  Recommended,
			Weight: 1,
			Check:  checkDeclared,
		},
		{
			ID:     "declared-dependency-built",
			Title:  "Every declared dependency is called",
			Why:    "A declared dependency the service no longer calls makes the catalog's dependency graph lie.",
			Fix:    "Remove stale names from Info.DependsOn, or build the dependency's client through Paved so the service observes it.",
			Level:  Recommended,
			Weight: 1,
			Check:  checkDeclaredBuilt,
		},
		{
			ID:     "routes-documented",
			Title:  "Every HTTP route is in the published OpenAPI document",
			Why:    "Consumers and the catalog read the contract from the published document; a route missing from it is an API nobody agreed on, and changing it breaks callers unseen.",
			Fix:    "Describe the route in the OpenAPI document the service publishes in Info.APIs, or stop serving it.",
			Level:  Recommended,
			Weight: 1,
			Check:  checkRoutesDocumented,
		},
		{
			ID:     "consumer-dead-letter",
			Title:  "A dead-letter subject on every message consumer",
			Why:    "A message that fails every attempt must go somewhere people can see and replay it; without a dead-letter subject it is dropped, or redelivered forever and blocks the consumer.",
			Fix:    "Set the consumer's dead-letter subject (natsjs.ConsumerConfig.DeadLetterSubject) and a stream that captures it.",
			Level:  Required,
			Weight: 2,
			Check:  checkConsumerDeadLetter,
		},
		{
			ID:     "consumer-bounded-concurrency",
			Title:  "Bounded handler concurrency on every message consumer",
			Why:    "A consumer that starts a handler per message without bound turns a backlog into a flood of goroutines and connections that takes the service and its dependencies down.",
			Fix:    "Give the consumer a fixed number of workers (natsjs.ConsumerSettings.MaxConcurrent, NATS_CONSUMER_MAX_CONCURRENT; the default is 16).",
			Level:  Required,
			Weight: 2,
			Check:  checkConsumerBounded,
		},
		{
			ID:     "consumer-idempotent",
			Title:  "Idempotent handling declared on every message consumer",
			Why:    "Delivery is at least once: a message is redelivered when its acknowledgement is lost or the service stops mid-handling, and a handler that is not idempotent then acts twice (two e-mails, two charges).",
			Fix:    "Wrap the handler in natsjs.Idempotency with a store shared by the instances, or, when the handler is idempotent by nature, declare it (natsjs.ConsumerConfig.Idempotent).",
			Level:  Recommended,
			Weight: 2,
			Check:  checkConsumerIdempotent,
		},
		{
			ID:     "shutdown-after-drain",
			Title:  "Shutdown timeout longer than the drain delay",
			Why:    "If the shutdown budget is shorter than the drain delay, in-flight requests are cut off and connections reset on every deploy.",
			Fix:    "Set SHUTDOWN_TIMEOUT longer than DRAIN_DELAY (defaults 15s and 5s), and the platform's grace period above both.",
			Level:  Required,
			Weight: 2,
			Check:  checkShutdown,
		},
		{
			ID:     "server-timeouts",
			Title:  "Public HTTP server timeouts set",
			Why:    "A server without timeouts lets slow or idle clients hold connections and goroutines without bound (slowloris).",
			Fix:    "Keep HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT and HTTP_IDLE_TIMEOUT above 0 (the defaults); a streaming service overrides this rule in its scorecard rather than turning timeouts off silently.",
			Level:  Required,
			Weight: 3,
			Check:  checkServerTimeouts,
		},
		{
			ID:     "request-limits",
			Title:  "Request header and body size limits",
			Why:    "Without size limits one large request can exhaust the service's memory.",
			Fix:    "Keep HTTP_MAX_HEADER_BYTES and HTTP_MAX_BODY_BYTES above 0 (the defaults).",
			Level:  Recommended,
			Weight: 1,
			Check:  checkRequestLimits,
		},
		{
			ID:     "registration-configured",
			Title:  "Registered in a service registry outside development",
			Why:    "An unregistered service is missing from the catalog, from discovery and from Prometheus targets.",
			Fix:    "Set CATALOG_URL (and CATALOG_TOKEN), or REGISTRY=etcd or consul with its endpoints.",
			Level:  Required,
			Weight: 2,
			Check:  checkRegistration,
		},
		{
			ID:     "kubernetes-manifests",
			Title:  "Kubernetes manifests agree with the service",
			Why:    "Probes, scraping and the grace period that miss the service's own settings restart healthy pods, lose metrics or cut requests at every rollout, and a pod without resources or a locked-down securityContext is the first evicted and the easiest to break out of.",
			Fix:    "Probe /startupz, /livez and /readyz on the admin port (or gRPC on GRPC_ADDR), scrape /metrics on the admin port (PodMonitor), keep terminationGracePeriodSeconds above DRAIN_DELAY + SHUTDOWN_TIMEOUT + 5s, set cpu and memory requests and a memory limit, and run as non-root with a read-only root filesystem, no privilege escalation and every capability dropped: paved manifests writes such a set.",
			Level:  Required,
			Weight: 2,
			Check:  checkKubernetes,
		},
		{
			ID:     "repository-link",
			Title:  "A link to the source repository",
			Why:    "Responders and contributors need to find the code from the catalog.",
			Fix:    "Set Info.Links.Repository to the repository's http(s) URL.",
			Level:  Recommended,
			Weight: 1,
			Check:  func(f Facts) Result { return checkLink("repository", f.Links.Repository) },
		},
		{
			ID:     "runbook-link",
			Title:  "A link to the runbook",
			Why:    "Whoever is paged at night needs to know what to do without reading the code.",
			Fix:    "Set Info.Links.Runbook to the runbook's http(s) URL.",
			Level:  Recommended,
			Weight: 2,
			Check:  func(f Facts) Result { return checkLink("runbook", f.Links.Runbook) },
		},
		{
			ID:     "on-call-link",
			Title:  "A link to the on-call rota",
			Why:    "During an incident people must find who to page for this service at once.",
			Fix:    "Set Info.Links.OnCall to the on-call schedule's http(s) URL.",
			Level:  Recommended,
			Weight: 2,
			Check:  func(f Facts) Result { return checkLink("on-call", f.Links.OnCall) },
		},
	}
}

// envName names f's environment for messages.
func envName(f Facts) string {
	if f.Environment == "" {
		return EnvDevelopment
	}
	return f.Environment
}

func textSet(what, v string) Result {
	if strings.TrimSpace(v) == "" {
		return Fail("%s is not set", what)
	}
	return Pass("%s is %q", what, clip(v))
}

func checkTier(f Facts) Result {
	switch {
	case f.Tier == 0:
		return Fail("tier is not set; want 1 (most critical) to 4")
	case f.Tier < 1 || f.Tier > 4:
		return Fail("tier %d is out of range; want 1 (most critical) to 4", f.Tier)
	}
	return Pass("tier %d", f.Tier)
}

func checkLifecycle(f Facts) Result {
	switch f.Lifecycle {
	case "":
		return Fail("lifecycle is not set; want experimental, production or deprecated")
	case "experimental", "production", "deprecated":
		return Pass("lifecycle %s", f.Lifecycle)
	}
	return Fail("lifecycle %q is not one of experimental, production, deprecated", clip(f.Lifecycle))
}

func checkVersion(f Facts) Result {
	switch {
	case strings.TrimSpace(f.Version) == "":
		return Fail("version is empty")
	case IsPlaceholderVersion(f.Version) && !f.Development():
		return Fail("version %q is a development placeholder in %s", clip(f.Version), envName(f))
	case IsPlaceholderVersion(f.Version):
		return Pass("version %q is a placeholder, accepted in development", clip(f.Version))
	}
	return Pass("version %q", clip(f.Version))
}

func checkReadiness(f Facts) Result {
	if len(f.ReadinessChecks) == 0 {
		return Fail("no readiness check is registered")
	}
	return Pass("%d readiness %s: %s", len(f.ReadinessChecks), plural(len(f.ReadinessChecks), "check", "checks"), quoteList(f.ReadinessChecks))
}

func checkLiveness(f Facts) Result {
	var deps []string
	for _, c := range f.LivenessChecks {
		if c.Dependency {
			deps = append(deps, c.Name)
		}
	}
	if len(deps) > 0 {
		return Fail("liveness %s %s %s a dependency", plural(len(deps), "check", "checks"), quoteList(deps), plural(len(deps), "probes", "probe"))
	}
	return Pass("%d liveness %s, none probing a dependency", len(f.LivenessChecks), plural(len(f.LivenessChecks), "check", "checks"))
}

func checkMetrics(f Facts) Result {
	var pushed []string
	for _, e := range f.SignalsExported {
		if m, ok := strings.CutPrefix(e, "metrics:"); ok {
			pushed = append(pushed, m)
		}
	}
	switch {
	case !f.MetricsServed && len(pushed) > 0:
		return Pass("metrics are pushed (%s)", clip(strings.Join(pushed, ",")))
	case !f.MetricsServed:
		return Fail("metrics are not served")
	case f.MetricsAddr != "" && f.HTTPAddr != "" && sameListener(f.MetricsAddr, f.HTTPAddr):
		return Fail("metrics are served on the public address %s", f.MetricsAddr)
	case f.MetricsAddr == "":
		return Pass("metrics are served")
	}
	return Pass("metrics are served on %s", f.MetricsAddr)
}

func checkTracing(f Facts) Result {
	if f.Development() {
		return NotApplicable("development: tracing exporter not required")
	}
	switch f.TracingExporter {
	case "":
		return Fail("no tracing exporter is configured in %s", envName(f))
	case ExporterNone, ExporterConsole:
		return Fail("tracing exporter is %q in %s; spans reach no tracing backend", f.TracingExporter, envName(f))
	}
	return Pass("tracing exporter %q", clip(f.TracingExporter))
}

func checkAdminSeparate(f Facts) Result {
	if f.HTTPAddr == "" && f.GRPCAddr == "" {
		return NotApplicable("no public server")
	}
	if f.AdminAddr == "" {
		return Fail("no admin server is listening apart from the public port")
	}
	for _, pub := range []struct{ name, addr string }{{"HTTP", f.HTTPAddr}, {"gRPC", f.GRPCAddr}} {
		if pub.addr != "" && sameListener(f.AdminAddr, pub.addr) {
			return Fail("admin address %s is the public %s address %s", f.AdminAddr, pub.name, pub.addr)
		}
	}
	return Pass("admin on %s, apart from the public port", f.AdminAddr)
}

func checkPprof(f Facts) Result {
	if f.Development() {
		return NotApplicable("development: pprof allowed")
	}
	if f.PprofEnabled {
		return Fail("pprof is enabled in %s", envName(f))
	}
	return Pass("pprof is off")
}

// each fails with one clause per item i of n (named by name, of the kind noun; several
// are nouns) for which bad returns a problem, and passes saying ok of all of them; none
// is the reason it is not applicable to no items.
func each(n int, noun, nouns, none, ok string, name func(i int) string, bad func(i int) string) Result {
	if n == 0 {
		return NotApplicable("%s", none)
	}
	var msgs []string
	for i := range n {
		if p := bad(i); p != "" {
			label := fmt.Sprintf("#%d (unnamed)", i+1)
			if nm := name(i); nm != "" {
				label = fmt.Sprintf("%q", clip(nm))
			}
			msgs = append(msgs, noun+" "+label+" "+p)
		}
	}
	if len(msgs) > 0 {
		return Fail("%s", strings.Join(msgs, "; "))
	}
	return Pass("%d %s %s", n, plural(n, noun, nouns), ok)
}

// eachDependency fails with one clause per dependency for which bad returns a problem.
func eachDependency(f Facts, ok string, bad func(Dependency) string) Result {
	d := f.Dependencies
	return each(len(d), "dependency", "dependencies", "no outbound dependencies", ok,
		func(i int) string { return d[i].Name }, func(i int) string { return bad(d[i]) })
}

func checkThroughPaved(f Facts) Result {
	return eachDependency(f, "built through Paved", func(d Dependency) string {
		if !d.ThroughPaved {
			return "is not built through Paved"
		}
		return ""
	})
}

func checkBreaker(f Facts) Result {
	return eachDependency(f, "with a circuit breaker", func(d Dependency) string {
		if !d.Breaker {
			return "has no circuit breaker"
		}
		return ""
	})
}

func checkTimeout(f Facts) Result {
	return eachDependency(f, "with a timeout", func(d Dependency) string {
		if d.Timeout <= 0 {
			return "has no timeout"
		}
		return ""
	})
}

func checkDeclared(f Facts) Result {
	declared := make(map[string]bool, len(f.DependsOn))
	for _, n := range f.DependsOn {
		declared[n] = true
	}
	return eachDependency(f, "declared in dependsOn", func(d Dependency) string {
		if d.Name == "" || !declared[d.Name] {
			return "is not declared in dependsOn"
		}
		return ""
	})
}

func checkDeclaredBuilt(f Facts) Result {
	if len(f.DependsOn) == 0 {
		return NotApplicable("no declared dependencies")
	}
	built := make(map[string]bool, len(f.Dependencies))
	for _, d := range f.Dependencies {
		built[d.Name] = true
	}
	var missing []string
	for _, n := range f.DependsOn {
		if !built[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return Fail("declared %s %s %s no client", plural(len(missing), "dependency", "dependencies"), quoteList(missing), plural(len(missing), "has", "have"))
	}
	return Pass("every declared dependency has a client")
}

// eachConsumer fails with one clause per consumer for which bad returns a problem.
func eachConsumer(f Facts, ok string, bad func(Consumer) string) Result {
	c := f.Consumers
	return each(len(c), "consumer", "consumers", "no message consumers", ok,
		func(i int) string { return c[i].Name }, func(i int) string { return bad(c[i]) })
}

func checkConsumerDeadLetter(f Facts) Result {
	return eachConsumer(f, "with a dead-letter subject", func(c Consumer) string {
		if strings.TrimSpace(c.DeadLetterSubject) == "" {
			return "has no dead-letter subject"
		}
		return ""
	})
}

func checkConsumerBounded(f Facts) Result {
	return eachConsumer(f, "with bounded concurrency", func(c Consumer) string {
		if c.MaxConcurrent <= 0 {
			return "runs its handlers without a concurrency bound"
		}
		return ""
	})
}

func checkConsumerIdempotent(f Facts) Result {
	return eachConsumer(f, "with idempotent handling declared", func(c Consumer) string {
		if !c.Idempotent {
			return "does not declare idempotent handling"
		}
		return ""
	})
}

func checkShutdown(f Facts) Result {
	switch {
	case f.ShutdownTimeout <= 0:
		return Fail("shutdown timeout is not set")
	case f.ShutdownTimeout <= f.DrainDelay:
		return Fail("shutdown timeout %v is not longer than the drain delay %v", f.ShutdownTimeout, f.DrainDelay)
	}
	return Pass("shutdown timeout %v, drain delay %v", f.ShutdownTimeout, f.DrainDelay)
}

func checkServerTimeouts(f Facts) Result {
	if f.HTTPAddr == "" {
		return NotApplicable("no public HTTP server")
	}
	s := f.Server
	var unset []string
	for _, t := range []struct {
		name string
		set  bool
	}{
		{"read header", s.ReadHeaderTimeout > 0},
		{"read", s.ReadTimeout > 0},
		{"write", s.WriteTimeout > 0},
		{"idle", s.IdleTimeout > 0},
	} {
		if !t.set {
			unset = append(unset, t.name)
		}
	}
	if len(unset) > 0 {
		return Fail("public HTTP server has no %s %s", strings.Join(unset, ", "), plural(len(unset), "timeout", "timeouts"))
	}
	return Pass("read header %v, read %v, write %v, idle %v", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
}

func checkRequestLimits(f Facts) Result {
	if f.HTTPAddr == "" {
		return NotApplicable("no public HTTP server")
	}
	s := f.Server
	var unset []string
	if s.MaxHeaderBytes <= 0 {
		unset = append(unset, "header")
	}
	if s.MaxBodyBytes <= 0 {
		unset = append(unset, "body")
	}
	if len(unset) > 0 {
		return Fail("public HTTP server has no request %s size %s", strings.Join(unset, " or "), plural(len(unset), "limit", "limits"))
	}
	return Pass("request header limit %d bytes, body limit %d bytes", s.MaxHeaderBytes, s.MaxBodyBytes)
}

func checkRegistration(f Facts) Result {
	if f.Development() {
		return NotApplicable("development: registration not required")
	}
	switch f.Registry {
	case "":
		return Fail("no registration backend is configured in %s", envName(f))
	case RegistryNone:
		return Fail("registration is off (registry none) in %s", envName(f))
	}
	return Pass("registers with %s", clip(f.Registry))
}

func checkLink(what, v string) Result {
	if v == "" {
		return Fail("%s link is not set", what)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Fail("%s link %q is not an http or https URL", what, clip(v))
	}
	return Pass("%s link %s", what, clip(v))
}

// sameListener reports whether listen addresses a and b are the same socket: the same
// port and the same host, or either host a wildcard. Port 0 picks a free port, so it
// never collides.
func sameListener(a, b string) bool {
	ah, ap, errA := net.SplitHostPort(a)
	bh, bp, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return a == b
	}
	if ap != bp || ap == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ah == bh || wild(ah) || wild(bh)
}

// quoteList returns the names quoted and joined with ", ".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", clip(n))
	}
	return strings.Join(q, ", ")
}

// clip shortens s to 200 bytes for messages.
func clip(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
