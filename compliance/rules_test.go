package compliance_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paved-road/paved/compliance"
)

// goodFacts returns the facts of a production service that passes every default rule.
func goodFacts() compliance.Facts {
	return compliance.Facts{
		Name:        "checkout",
		Owner:       "team-payments",
		Description: "Takes orders and charges cards.",
		Tier:        1,
		Lifecycle:   "production",
		Labels:      map[string]string{"pci": "true"},
		Links: compliance.Links{
			Repository: "https://git.example.com/payments/checkout",
			Runbook:    "https://wiki.example.com/checkout/runbook",
			OnCall:     "https://oncall.example.com/payments",
		},
		DependsOn:       []string{"inventory", "payments"},
		Environment:     compliance.EnvProduction,
		Version:         "v1.4.2",
		Revision:        "0123abc",
		ReadinessChecks: []string{"db", "inventory"},
		LivenessChecks:  []compliance.Check{{Name: "goroutines"}},
		MetricsServed:   true,
		MetricsAddr:     "0.0.0.0:9090",
		TracingExporter: compliance.ExporterOTLP,
		HTTPAddr:        "0.0.0.0:8080",
		AdminAddr:       "0.0.0.0:9090",
		Dependencies: []compliance.Dependency{
			{Name: "inventory", ThroughPaved: true, Breaker: true, Timeout: 2 * time.Second},
			{Name: "payments", ThroughPaved: true, Breaker: true, Timeout: time.Second},
		},
		ShutdownTimeout: 15 * time.Second,
		DrainDelay:      5 * time.Second,
		Server: compliance.ServerLimits{
			ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
			MaxHeaderBytes: 64 << 10, MaxBodyBytes: 1 << 20,
		},
		Registry: compliance.RegistryCatalog,
		Kubernetes: &compliance.Kubernetes{
			Source: "deployment/checkout (deploy/checkout.yaml)",
			Probes: []compliance.KubernetesProbe{
				{Kind: "startup", Path: "/startupz", Port: 9090}, {Kind: "liveness", Path: "/livez", Port: 9090}, {Kind: "readiness", Path: "/readyz", Port: 9090},
			},
			Scrapes:                []compliance.KubernetesScrape{{Via: "PodMonitor/checkout", Port: 9090, Path: "/metrics"}},
			TerminationGracePeriod: 45 * time.Second,
			CPURequest:             "100m", MemoryRequest: "128Mi", MemoryLimit: "256Mi",
			RunAsNonRoot: true, ReadOnlyRootFilesystem: true, NoPrivilegeEscalation: true, DropsAllCapabilities: true,
		},
		Consumers: []compliance.Consumer{
			{Name: "checkout", Subject: "payments.settled", DeadLetterSubject: "dlq.checkout", MaxConcurrent: 16, Idempotent: true},
		},
		APIs: []compliance.API{{Name: "checkout-http-v1", Kind: "openapi",
			Operations: []string{"GET /orders/{id}", "POST /orders", "GET /static/app.js"}}},
		HTTPRoutes: []string{"GET /orders/{id}", "POST /orders", "GET /static/"},
	}
}

// ruleCase is one rule evaluated on goodFacts changed by edit.
type ruleCase struct {
	rule    string
	name    string
	edit    func(*compliance.Facts)
	want    compliance.Status
	message string // a part of the message
}

func dev(f *compliance.Facts) { f.Environment = compliance.EnvDevelopment }

func ruleCases() []ruleCase {
	pass, fail, na := compliance.StatusPass, compliance.StatusFail, compliance.StatusNotApplicable
	return []ruleCase{
		{"owner-set", "set", nil, pass, `owner is "team-payments"`},
		{"owner-set", "empty", func(f *compliance.Facts) { f.Owner = "" }, fail, "owner is not set"},
		{"owner-set", "blank", func(f *compliance.Facts) { f.Owner = "  " }, fail, "owner is not set"},
		{"owner-set", "long, clipped in the message", func(f *compliance.Facts) { f.Owner = strings.Repeat("x", 300) }, pass, strings.Repeat("x", 200) + `..."`},

		{"description-set", "set", nil, pass, "description is"},
		{"description-set", "empty", func(f *compliance.Facts) { f.Description = "" }, fail, "description is not set"},

		{"tier-set", "tier 1", nil, pass, "tier 1"},
		{"tier-set", "tier 4", func(f *compliance.Facts) { f.Tier = 4 }, pass, "tier 4"},
		{"tier-set", "unset", func(f *compliance.Facts) { f.Tier = 0 }, fail, "tier is not set"},
		{"tier-set", "too high", func(f *compliance.Facts) { f.Tier = 5 }, fail, "tier 5 is out of range"},
		{"tier-set", "negative", func(f *compliance.Facts) { f.Tier = -1 }, fail, "tier -1 is out of range"},

		{"lifecycle-set", "production", nil, pass, "lifecycle production"},
		{"lifecycle-set", "deprecated", func(f *compliance.Facts) { f.Lifecycle = "deprecated" }, pass, "lifecycle deprecated"},
		{"lifecycle-set", "unset", func(f *compliance.Facts) { f.Lifecycle = "" }, fail, "lifecycle is not set"},
		{"lifecycle-set", "unknown", func(f *compliance.Facts) { f.Lifecycle = "beta" }, fail, `lifecycle "beta" is not one of experimental, production, deprecated`},

		{"version-set", "release", nil, pass, `version "v1.4.2"`},
		{"version-set", "pseudo-version", func(f *compliance.Facts) { f.Version = "v0.0.0-20261125120000-0123456789ab" }, pass, "v0.0.0-2026"},
		{"version-set", "empty in production", func(f *compliance.Facts) { f.Version = "" }, fail, "version is empty"},
		{"version-set", "empty in development", func(f *compliance.Facts) { dev(f); f.Version = "" }, fail, "version is empty"},
		{"version-set", "devel in production", func(f *compliance.Facts) { f.Version = "devel" }, fail, `version "devel" is a development placeholder in production`},
		{"version-set", "snapshot in staging", func(f *compliance.Facts) { f.Environment = compliance.EnvStaging; f.Version = "1.2.0-SNAPSHOT" }, fail, "placeholder in staging"},
		{"version-set", "devel in development", func(f *compliance.Facts) { dev(f); f.Version = "(devel)" }, pass, "accepted in development"},
		{"version-set", "latest with unset environment", func(f *compliance.Facts) { f.Environment = ""; f.Version = "latest" }, pass, "accepted in development"},
		{"version-set", "dev in an unknown environment", func(f *compliance.Facts) { f.Environment = "prod"; f.Version = "dev" }, fail, "placeholder in prod"},

		{"readiness-check", "two checks", nil, pass, `2 readiness checks: "db", "inventory"`},
		{"readiness-check", "none", func(f *compliance.Facts) { f.ReadinessChecks = nil }, fail, "no readiness check is registered"},

		{"liveness-no-dependencies", "self only", nil, pass, "1 liveness check, none probing a dependency"},
		{"liveness-no-dependencies", "no checks", func(f *compliance.Facts) { f.LivenessChecks = nil }, pass, "0 liveness checks"},
		{"liveness-no-dependencies", "one dependency", func(f *compliance.Facts) {
			f.LivenessChecks = append(f.LivenessChecks, compliance.Check{Name: "db", Dependency: true})
		}, fail, `liveness check "db" probes a dependency`},
		{"liveness-no-dependencies", "two dependencies", func(f *compliance.Facts) {
			f.LivenessChecks = []compliance.Check{{Name: "db", Dependency: true}, {Name: "inventory", Dependency: true}}
		}, fail, `liveness checks "db", "inventory" probe a dependency`},

		{"metrics-served", "on admin", nil, pass, "metrics are served on 0.0.0.0:9090"},
		{"metrics-served", "address not observed", func(f *compliance.Facts) { f.MetricsAddr = "" }, pass, "metrics are served"},
		{"metrics-served", "not served", func(f *compliance.Facts) { f.MetricsServed = false }, fail, "metrics are not served"},
		{"metrics-served", "on the public port", func(f *compliance.Facts) { f.MetricsAddr = ":8080" }, fail, "metrics are served on the public address :8080"},

		{"tracing-exporter", "otlp", nil, pass, `tracing exporter "otlp"`},
		{"tracing-exporter", "unset in production", func(f *compliance.Facts) { f.TracingExporter = "" }, fail, "no tracing exporter is configured in production"},
		{"tracing-exporter", "none in production", func(f *compliance.Facts) { f.TracingExporter = "none" }, fail, `tracing exporter is "none" in production`},
		{"tracing-exporter", "console in staging", func(f *compliance.Facts) { f.Environment = "staging"; f.TracingExporter = "console" }, fail, `tracing exporter is "console" in staging`},
		{"tracing-exporter", "none in development", func(f *compliance.Facts) { dev(f); f.TracingExporter = "none" }, na, "development"},

		{"admin-separate", "apart", nil, pass, "admin on 0.0.0.0:9090"},
		{"admin-separate", "loopback admin, wildcard public, other ports", func(f *compliance.Facts) { f.AdminAddr = "127.0.0.1:9090" }, pass, "apart"},
		{"admin-separate", "same address", func(f *compliance.Facts) { f.AdminAddr = "0.0.0.0:8080" }, fail, "admin address 0.0.0.0:8080 is the public HTTP address 0.0.0.0:8080"},
		{"admin-separate", "same port, wildcard", func(f *compliance.Facts) { f.AdminAddr = "127.0.0.1:8080"; f.HTTPAddr = ":8080" }, fail, "is the public HTTP address :8080"},
		{"admin-separate", "same as gRPC", func(f *compliance.Facts) { f.GRPCAddr = "[::]:9090" }, fail, "is the public gRPC address [::]:9090"},
		{"admin-separate", "both on port 0 (picked free)", func(f *compliance.Facts) { f.AdminAddr, f.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0" }, pass, "apart"},
		{"admin-separate", "not host:port, same string", func(f *compliance.Facts) { f.AdminAddr, f.HTTPAddr = "/run/app.sock", "/run/app.sock" }, fail, "is the public HTTP address /run/app.sock"},
		{"admin-separate", "no admin server", func(f *compliance.Facts) { f.AdminAddr = "" }, fail, "no admin server"},
		{"admin-separate", "no public server", func(f *compliance.Facts) { f.HTTPAddr = ""; f.AdminAddr = "" }, na, "no public server"},

		{"pprof-off", "off in production", nil, pass, "pprof is off"},
		{"pprof-off", "on in production", func(f *compliance.Facts) { f.PprofEnabled = true }, fail, "pprof is enabled in production"},
		{"pprof-off", "on in development", func(f *compliance.Facts) { dev(f); f.PprofEnabled = true }, na, "development"},

		{"dependency-through-paved", "all", nil, pass, "2 dependencies built through Paved"},
		{"dependency-through-paved", "hand-made client", func(f *compliance.Facts) { f.Dependencies[1].ThroughPaved = false }, fail, `dependency "payments" is not built through Paved`},
		{"dependency-through-paved", "none", func(f *compliance.Facts) { f.Dependencies = nil }, na, "no outbound dependencies"},

		{"dependency-breaker", "all", nil, pass, "2 dependencies with a circuit breaker"},
		{"dependency-breaker", "one missing", func(f *compliance.Facts) { f.Dependencies[0].Breaker = false }, fail, `dependency "inventory" has no circuit breaker`},
		{"dependency-breaker", "two missing", func(f *compliance.Facts) {
			f.Dependencies[0].Breaker, f.Dependencies[1].Breaker = false, false
		}, fail, `dependency "inventory" has no circuit breaker; dependency "payments" has no circuit breaker`},
		{"dependency-breaker", "unnamed", func(f *compliance.Facts) { f.Dependencies[1] = compliance.Dependency{} }, fail, "dependency #2 (unnamed) has no circuit breaker"},
		{"dependency-breaker", "none", func(f *compliance.Facts) { f.Dependencies = nil }, na, "no outbound dependencies"},

		{"dependency-timeout", "all", nil, pass, "2 dependencies with a timeout"},
		{"dependency-timeout", "missing", func(f *compliance.Facts) { f.Dependencies[1].Timeout = 0 }, fail, `dependency "payments" has no timeout`},
		{"dependency-timeout", "none", func(f *compliance.Facts) { f.Dependencies = nil }, na, "no outbound dependencies"},

		{"dependency-declared", "all declared", nil, pass, "2 dependencies declared in dependsOn"},
		{"dependency-declared", "undeclared", func(f *compliance.Facts) { f.DependsOn = []string{"inventory"} }, fail, `dependency "payments" is not declared in dependsOn`},
		{"dependency-declared", "none", func(f *compliance.Facts) { f.Dependencies = nil }, na, "no outbound dependencies"},

		{"declared-dependency-built", "all built", nil, pass, "every declared dependency has a client"},
		{"declared-dependency-built", "stale", func(f *compliance.Facts) { f.DependsOn = append(f.DependsOn, "legacy-billing") }, fail, `declared dependency "legacy-billing" has no client`},
		{"declared-dependency-built", "none declared", func(f *compliance.Facts) { f.DependsOn = nil }, na, "no declared dependencies"},

		{"routes-documented", "every route documented", nil, pass, "3 routes, each in the OpenAPI document"},
		{"routes-documented", "a route missing", func(f *compliance.Facts) { f.HTTPRoutes = append(f.HTTPRoutes, "DELETE /orders/{id}", "/debug/vars") }, fail,
			"2 of 5 routes missing from the OpenAPI document: DELETE /orders/{id}, /debug/vars"},
		{"routes-documented", "no OpenAPI document", func(f *compliance.Facts) { f.APIs = []compliance.API{{Name: "x", Kind: "grpc"}} }, na, "no OpenAPI document published"},
		{"routes-documented", "routes not observed", func(f *compliance.Facts) { f.HTTPRoutes = nil }, na, "the service serves its own handler"},
		{"routes-documented", "no routes", func(f *compliance.Facts) { f.HTTPRoutes = []string{} }, pass, "0 routes"},

		{"consumer-dead-letter", "set", nil, pass, "1 consumer with a dead-letter subject"},
		{"consumer-dead-letter", "missing", func(f *compliance.Facts) {
			f.Consumers = append(f.Consumers, compliance.Consumer{Name: "audit", MaxConcurrent: 1})
		}, fail, `consumer "audit" has no dead-letter subject`},
		{"consumer-dead-letter", "none", func(f *compliance.Facts) { f.Consumers = nil }, na, "no message consumers"},

		{"consumer-bounded-concurrency", "bounded", nil, pass, "1 consumer with bounded concurrency"},
		{"consumer-bounded-concurrency", "unbounded", func(f *compliance.Facts) { f.Consumers[0].MaxConcurrent = 0 }, fail,
			`consumer "checkout" runs its handlers without a concurrency bound`},
		{"consumer-bounded-concurrency", "unnamed", func(f *compliance.Facts) { f.Consumers[0] = compliance.Consumer{} }, fail, "consumer #1 (unnamed) runs"},
		{"consumer-bounded-concurrency", "none", func(f *compliance.Facts) { f.Consumers = nil }, na, "no message consumers"},

		{"consumer-idempotent", "declared", nil, pass, "1 consumer with idempotent handling declared"},
		{"consumer-idempotent", "not declared", func(f *compliance.Facts) { f.Consumers[0].Idempotent = false }, fail, `consumer "checkout" does not declare idempotent handling`},
		{"consumer-idempotent", "none", func(f *compliance.Facts) { f.Consumers = nil }, na, "no message consumers"},

		{"shutdown-after-drain", "15s after 5s", nil, pass, "shutdown timeout 15s, drain delay 5s"},
		{"shutdown-after-drain", "no drain delay", func(f *compliance.Facts) { f.DrainDelay = 0 }, pass, "drain delay 0s"},
		{"shutdown-after-drain", "equal", func(f *compliance.Facts) { f.ShutdownTimeout = 5 * time.Second }, fail, "shutdown timeout 5s is not longer than the drain delay 5s"},
		{"shutdown-after-drain", "unset", func(f *compliance.Facts) { f.ShutdownTimeout = 0 }, fail, "shutdown timeout is not set"},

		{"server-timeouts", "all set", nil, pass, "read header 5s, read 30s, write 1m0s, idle 2m0s"},
		{"server-timeouts", "write and idle missing", func(f *compliance.Facts) { f.Server.WriteTimeout, f.Server.IdleTimeout = 0, 0 }, fail, "public HTTP server has no write, idle timeouts"},
		{"server-timeouts", "read header missing", func(f *compliance.Facts) { f.Server.ReadHeaderTimeout = 0 }, fail, "has no read header timeout"},
		{"server-timeouts", "no HTTP server", func(f *compliance.Facts) { f.HTTPAddr = "" }, na, "no public HTTP server"},

		{"request-limits", "set", nil, pass, "body limit 1048576 bytes"},
		{"request-limits", "no body limit", func(f *compliance.Facts) { f.Server.MaxBodyBytes = 0 }, fail, "has no request body size limit"},
		{"request-limits", "no limits", func(f *compliance.Facts) { f.Server = compliance.ServerLimits{} }, fail, "has no request header or body size limits"},
		{"request-limits", "no HTTP server", func(f *compliance.Facts) { f.HTTPAddr = "" }, na, "no public HTTP server"},

		{"registration-configured", "catalog", nil, pass, "registers with catalog"},
		{"registration-configured", "etcd", func(f *compliance.Facts) { f.Registry = "etcd" }, pass, "registers with etcd"},
		{"registration-configured", "none in production", func(f *compliance.Facts) { f.Registry = "none" }, fail, "registration is off (registry none) in production"},
		{"registration-configured", "unset in staging", func(f *compliance.Facts) { f.Environment = "staging"; f.Registry = "" }, fail, "no registration backend is configured in staging"},
		{"registration-configured", "none in development", func(f *compliance.Facts) { dev(f); f.Registry = "none" }, na, "development"},

		{"kubernetes-manifests", "agree", nil, pass, "deployment/checkout (deploy/checkout.yaml): probes and metrics on the admin port 9090, grace 45s"},
		{"kubernetes-manifests", "not observed", func(f *compliance.Facts) { f.Kubernetes = nil }, na, "no Kubernetes manifests observed"},
		{"kubernetes-manifests", "readiness on the public port", func(f *compliance.Facts) { f.Kubernetes.Probes[2].Port = 8080 }, fail,
			"the readiness probe is on port 8080, not the admin port 9090"},
		{"kubernetes-manifests", "liveness at /healthz", func(f *compliance.Facts) { f.Kubernetes.Probes[1].Path = "/healthz" }, fail, `the liveness probe asks "/healthz", not /livez`},
		{"kubernetes-manifests", "a named check under /readyz", func(f *compliance.Facts) { f.Kubernetes.Probes[2].Path = "/readyz/db" }, pass, "probes and metrics"},
		{"kubernetes-manifests", "no startup probe, tcp liveness", func(f *compliance.Facts) {
			f.Kubernetes.Probes = []compliance.KubernetesProbe{{Kind: "liveness", Other: "tcpSocket"}, f.Kubernetes.Probes[2]}
		}, fail, "no startup probe; the liveness probe is tcpSocket, not HTTP /livez on the admin port 9090"},
		{"kubernetes-manifests", "gRPC readiness without gRPC", func(f *compliance.Facts) {
			f.Kubernetes.Probes[2] = compliance.KubernetesProbe{Kind: "readiness", GRPC: true, Port: 9000}
		}, fail,
			"the readiness probe is gRPC on port 9000"},
		{"kubernetes-manifests", "gRPC readiness on GRPC_ADDR", func(f *compliance.Facts) {
			f.GRPCAddr = ":9000"
			f.Kubernetes.Probes[2] = compliance.KubernetesProbe{Kind: "readiness", GRPC: true, Port: 9000}
		}, pass, "probes and metrics"},
		{"kubernetes-manifests", "scraped on the public port", func(f *compliance.Facts) { f.Kubernetes.Scrapes[0].Port = 8080 }, fail,
			"PodMonitor/checkout scrapes port 8080 at /metrics, not /metrics on the admin port 9090"},
		{"kubernetes-manifests", "not scraped", func(f *compliance.Facts) { f.Kubernetes.Scrapes = nil }, fail, "nothing scrapes the metrics"},
		{"kubernetes-manifests", "annotations on the admin port", func(f *compliance.Facts) {
			f.Kubernetes.Scrapes = []compliance.KubernetesScrape{{Via: "annotations", Port: 9090}}
		}, pass, "probes and metrics"},
		{"kubernetes-manifests", "grace too short", func(f *compliance.Facts) { f.Kubernetes.TerminationGracePeriod = 20 * time.Second }, fail,
			"terminationGracePeriodSeconds 20s is below DRAIN_DELAY 5s + SHUTDOWN_TIMEOUT 15s + 5s"},
		{"kubernetes-manifests", "no resources", func(f *compliance.Facts) { f.Kubernetes.CPURequest, f.Kubernetes.MemoryLimit = "", "" }, fail, "no cpu request, memory limit"},
		{"kubernetes-manifests", "root, writable", func(f *compliance.Facts) {
			f.Kubernetes.RunAsNonRoot, f.Kubernetes.ReadOnlyRootFilesystem = false, false
		}, fail,
			"securityContext lacks runAsNonRoot: true, readOnlyRootFilesystem: true"},

		{"repository-link", "set", nil, pass, "repository link https://git.example.com"},
		{"repository-link", "unset", func(f *compliance.Facts) { f.Links.Repository = "" }, fail, "repository link is not set"},
		{"repository-link", "not http", func(f *compliance.Facts) { f.Links.Repository = "git@example.com:a/b.git" }, fail, `repository link "git@example.com:a/b.git" is not an http or https URL`},

		{"runbook-link", "set", nil, pass, "runbook link"},
		{"runbook-link", "unset", func(f *compliance.Facts) { f.Links.Runbook = "" }, fail, "runbook link is not set"},
		{"runbook-link", "relative", func(f *compliance.Facts) { f.Links.Runbook = "/wiki/runbook" }, fail, `runbook link "/wiki/runbook" is not an http or https URL`},

		{"on-call-link", "set", nil, pass, "on-call link"},
		{"on-call-link", "unset", func(f *compliance.Facts) { f.Links.OnCall = "" }, fail, "on-call link is not set"},
		{"on-call-link", "no host", func(f *compliance.Facts) { f.Links.OnCall = "https://" }, fail, "is not an http or https URL"},
	}
}

// TestRules runs each default rule on facts that pass and fail it, through Evaluate.
func TestRules(t *testing.T) {
	set := compliance.DefaultRuleSet()
	for _, tc := range ruleCases() {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			f := goodFacts()
			if tc.edit != nil {
				tc.edit(&f)
			}
			rep := compliance.Evaluate(f, set)
			got, ok := rep.Result(tc.rule)
			if !ok {
				t.Fatalf("got no result for rule %q, want one", tc.rule)
			}
			if got.Status != tc.want {
				t.Errorf("status: got %v, want %v (message %q)", got.Status, tc.want, got.Message)
			}
			if !strings.Contains(got.Message, tc.message) {
				t.Errorf("message: got %q, want it to contain %q", got.Message, tc.message)
			}
			if tc.want == compliance.StatusFail && got.Fix == "" {
				t.Errorf("fix: got empty, want the rule's fix on a failure")
			}
			if tc.want != compliance.StatusFail && got.Fix != "" {
				t.Errorf("fix: got %q, want empty on %v", got.Fix, tc.want)
			}
		})
	}
}

// TestRuleCasesCoverEveryRule fails when a default rule lacks a passing or a failing case.
func TestRuleCasesCoverEveryRule(t *testing.T) {
	seen := map[string]map[compliance.Status]bool{}
	for _, tc := range ruleCases() {
		if seen[tc.rule] == nil {
			seen[tc.rule] = map[compliance.Status]bool{}
		}
		seen[tc.rule][tc.want] = true
	}
	for _, r := range compliance.DefaultRules() {
		for _, st := range []compliance.Status{compliance.StatusPass, compliance.StatusFail} {
			if !seen[r.ID][st] {
				t.Errorf("rule %q: got no %v case, want one", r.ID, st)
			}
		}
		delete(seen, r.ID)
	}
	for id := range seen {
		t.Errorf("cases for rule %q: got a rule that is not a default rule, want none", id)
	}
}

func TestGoodFactsPassEveryRule(t *testing.T) {
	rep := compliance.Evaluate(goodFacts(), compliance.DefaultRuleSet())
	if rep.Score != 100 || len(rep.Failed) != 0 || len(rep.NotApplicable) != 0 {
		t.Errorf("got score %d, failed %v, not applicable %v; want 100, none, none", rep.Score, rep.Failed, rep.NotApplicable)
	}
	if !rep.Compliant() {
		t.Errorf("Compliant: got false, want true")
	}
}

// TestZeroFacts: nothing observed fails every required rule that applies everywhere.
func TestZeroFacts(t *testing.T) {
	rep := compliance.Evaluate(compliance.Facts{}, compliance.DefaultRuleSet())
	if rep.Compliant() {
		t.Fatalf("Compliant: got true, want false")
	}
	for _, id := range []string{"owner-set", "tier-set", "lifecycle-set", "version-set", "readiness-check", "metrics-served", "shutdown-after-drain"} {
		if !slices.Contains(rep.Failed, id) {
			t.Errorf("failed: got %v, want it to hold %q", rep.Failed, id)
		}
	}
	if rep.Environment != compliance.EnvDevelopment {
		t.Errorf("environment: got %q, want %q", rep.Environment, compliance.EnvDevelopment)
	}
}

func TestDefaultRulesWellFormed(t *testing.T) {
	rules := compliance.DefaultRules()
	if _, err := compliance.NewRuleSet(compliance.DefaultVersion, rules...); err != nil {
		t.Fatalf("NewRuleSet(DefaultRules()): got %v, want nil", err)
	}
	for _, r := range rules {
		if r.Why == "" {
			t.Errorf("rule %q: got an empty Why, want one", r.ID)
		}
	}
	// A fresh slice each call: changing one does not change the next.
	rules[0].Weight = 99
	if got := compliance.DefaultRules()[0].Weight; got == 99 {
		t.Errorf("DefaultRules()[0].Weight after changing a previous result: got %d, want the default", got)
	}
	set := compliance.DefaultRuleSet()
	if set.Version() != compliance.DefaultVersion || set.Len() != len(rules) {
		t.Errorf("DefaultRuleSet: got version %q with %d rules, want %q with %d", set.Version(), set.Len(), compliance.DefaultVersion, len(rules))
	}
}

func TestIsPlaceholderVersion(t *testing.T) {
	for v, want := range map[string]bool{
		"": true, "dev": true, "devel": true, "(devel)": true, "0.0.0": true, "v0.0.0": true,
		"unknown": true, "latest": true, "LATEST": true, "1.2.0-SNAPSHOT": true, "snapshot": true,
		"v1.2.3+dirty": true, " dev ": true,
		"v1.2.3": false, "1.0.0": false, "v0.0.0-20261125120000-0123456789ab": false, "2026.11.25": false,
	} {
		if got := compliance.IsPlaceholderVersion(v); got != want {
			t.Errorf("IsPlaceholderVersion(%q): got %v, want %v", v, got, want)
		}
	}
}

func TestIsRuleID(t *testing.T) {
	for id, want := range map[string]bool{
		"owner-set": true, "a": true, "on-call-link": true, "rule2": true,
		"": false, "Owner": false, "-a": false, "a-": false, "a--b": false, "1a": false, "a_b": false,
		strings.Repeat("a", 65): false, strings.Repeat("a", 64): true,
	} {
		if got := compliance.IsRuleID(id); got != want {
			t.Errorf("IsRuleID(%q): got %v, want %v", id, got, want)
		}
	}
}
