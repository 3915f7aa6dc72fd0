package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/health"
	"github.com/paved-road/paved/internal/k8s"
	"github.com/paved-road/paved/service"
)

// The ids of the findings [Check] reports, in report order, each for every Deployment.
const (
	RuleProbes       = "probes"        // probes on the admin port, at /startupz, /livez, /readyz (or gRPC on GRPC_ADDR)
	RuleProbeTimeout = "probe-timeout" // timeoutSeconds above ProbeWait plus a round trip
	RuleGracePeriod  = "grace-period"  // terminationGracePeriodSeconds covers the stop
	RuleServicePorts = "service-ports" // no Service selecting the pods exposes the admin port
	RuleEnvNames     = "env-names"     // every variable set is one the service reads
	RuleEnvValues    = "env-values"    // every literal value loads as the service loads it
	// RuleCompliance is the compliance rule kubernetes-manifests (probes and metrics on
	// the admin port, grace period, resources, securityContext), evaluated on the
	// facts the manifests give (compliance.Kubernetes).
	RuleCompliance = "compliance/kubernetes-manifests"
)

// Rules returns the rule ids in report order.
func Rules() []string {
	return []string{RuleProbes, RuleProbeTimeout, RuleGracePeriod, RuleServicePorts, RuleEnvNames, RuleEnvValues, RuleCompliance}
}

// roundTrip is the headroom a probe's timeout keeps over ProbeWait for the network and
// the answer.
const roundTrip = 200 * time.Millisecond

// CheckOptions says what the manifests are checked against. The zero value checks
// against the defaults.
type CheckOptions struct {
	// Known lists the service's own settings (beyond service.Config, OTEL_* and the Go
	// runtime's), such as those read from its configuration reference.
	Known []string
	// ProbeWait is the service's health.Options.ProbeWait; zero means
	// health.DefaultProbeWait (800ms).
	ProbeWait time.Duration
}

// Report is the outcome of [Check].
type Report struct {
	// Dir is the directory checked.
	Dir string `json:"dir"`
	// Objects counts the objects read, Deployments the ones checked.
	Objects     int `json:"objects"`
	Deployments int `json:"deployments"`
	// Findings lists each rule's outcome for each Deployment.
	Findings []check.Finding `json:"findings"`
	// Passed reports that no finding failed.
	Passed bool `json:"passed"`
}

// Check checks the Deployments among docs against the settings of the service each
// runs, as the service itself would load them from the Deployment's environment: the
// probes against the admin (and gRPC) address, their timeouts against ProbeWait, the
// grace period against the stop budget, the Services selecting the pods against the
// admin port, and every variable against those Paved knows; then the compliance rule
// kubernetes-manifests on what the Deployment, the PodMonitors, ServiceMonitors and
// Services around it say (see [Facts]). A document that does not decode is an error; a
// set without a Deployment is reported failed.
func Check(dir string, docs []Document, opts CheckOptions) (*Report, error) {
	if opts.ProbeWait <= 0 {
		opts.ProbeWait = health.DefaultProbeWait
	}
	r := &Report{Dir: dir, Objects: len(docs)}
	set, err := k8s.Collect(docs)
	if err != nil {
		return nil, err
	}
	known := NewKnown(opts.Known)
	for _, dep := range set.Deployments {
		r.Deployments++
		c := &deploymentCheck{dep: dep.Object, file: dep.File, opts: opts, known: known, report: r}
		c.run(set.Services)
		c.checkCompliance(dep, set)
	}
	if r.Deployments == 0 {
		r.Findings = append(r.Findings, check.Finding{ID: "deployment", Status: check.StatusFail,
			Message: fmt.Sprintf("no Deployment among the %d objects in %s", len(docs), dir),
			Fix:     "Point --manifests at the directory holding the service's Deployment."})
	}
	r.Passed = !slices.ContainsFunc(r.Findings, func(f check.Finding) bool { return f.Status == check.StatusFail })
	return r, nil
}

// deploymentCheck checks one Deployment.
type deploymentCheck struct {
	dep    Deployment
	file   string
	opts   CheckOptions
	known  Known
	report *Report

	c     Container
	cfg   service.Config
	ports Ports
}

func (d *deploymentCheck) where() string {
	return k8s.Where(k8s.Located[Deployment]{File: d.file, Object: d.dep})
}

// add records a finding: problems make it fail, none pass with passMsg.
func (d *deploymentCheck) add(rule string, problems []string, fix, passMsg string) {
	if len(problems) == 0 {
		d.report.Findings = append(d.report.Findings, check.Finding{ID: rule, Status: check.StatusPass, Message: d.where() + ": " + passMsg})
		return
	}
	d.report.Findings = append(d.report.Findings, check.Finding{ID: rule, Status: check.StatusFail,
		Message: d.where() + ": " + strings.Join(problems, "; "), Fix: fix})
}

func (d *deploymentCheck) run(services []k8s.Located[Service]) {
	c, ok := k8s.ServiceContainer(d.dep)
	if !ok {
		d.add(RuleProbes, []string{"no container"}, "Give the Deployment the service's container.", "")
		return
	}
	d.c = c
	cfg, err := Settings(d.c.Env)
	d.cfg = cfg
	var valueProblems []string
	var ce *service.ConfigError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			valueProblems = append(valueProblems, p.String())
		}
	} else if err != nil {
		valueProblems = append(valueProblems, err.Error())
	}
	ports, err := PortsOf(cfg)
	if err != nil {
		valueProblems = append(valueProblems, err.Error())
	}
	d.ports = ports

	d.checkProbes()
	d.checkProbeTimeouts()
	d.checkGrace()
	d.checkServices(services)
	d.checkEnvNames()
	d.add(RuleEnvValues, valueProblems, "Set each variable to a value the service accepts (docs/configuration.md); the pod would exit with code 2.",
		"every literal value loads as the service loads it")
}

// portNumber resolves a probe's or Service's target port against the container.
func (d *deploymentCheck) portNumber(p IntOrString) (int, bool) { return k8s.PortNumber(d.c, p) }

func (d *deploymentCheck) checkProbes() {
	var problems []string
	adminAddr := d.cfg.AdminAddr
	if host, _, err := net.SplitHostPort(adminAddr); err == nil && host != "" {
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			problems = append(problems, fmt.Sprintf("ADMIN_ADDR=%q listens on loopback only: the kubelet cannot reach it", adminAddr))
		}
	}
	probes := []struct {
		kind, path string
		p          *Probe
		grpcOK     []string // the gRPC health service names for this kind
	}{
		{"startupProbe", "/startupz", d.c.StartupProbe, []string{"startup"}},
		{"livenessProbe", "/livez", d.c.LivenessProbe, []string{"liveness"}},
		{"readinessProbe", "/readyz", d.c.ReadinessProbe, []string{"", "readiness"}},
	}
	for _, pr := range probes {
		p := pr.p
		switch {
		case p == nil:
			problems = append(problems, fmt.Sprintf("no %s (want httpGet %s on the admin port %d)", pr.kind, pr.path, d.ports.Admin))
		case p.HTTPGet != nil:
			port, ok := d.portNumber(p.HTTPGet.Port)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s port %q is not a port of container %s", pr.kind, p.HTTPGet.Port.Str, d.c.Name))
			} else if port != d.ports.Admin {
				problems = append(problems, fmt.Sprintf("%s on port %d, but ADMIN_ADDR=%q serves the probes on %d", pr.kind, port, adminAddr, d.ports.Admin))
			}
			if path := p.HTTPGet.Path; path != pr.path && !strings.HasPrefix(path, pr.path+"/") {
				problems = append(problems, fmt.Sprintf("%s path %q, want %s (or %s/<check>)", pr.kind, path, pr.path, pr.path))
			}
			if strings.EqualFold(p.HTTPGet.Scheme, "HTTPS") {
				problems = append(problems, fmt.Sprintf("%s scheme HTTPS, but the admin server serves plain HTTP", pr.kind))
			}
		case p.GRPC != nil:
			switch {
			case d.ports.GRPC == 0:
				problems = append(problems, fmt.Sprintf("%s is a gRPC probe on port %d, but GRPC_ADDR is not set: the service serves no gRPC", pr.kind, p.GRPC.Port))
			case p.GRPC.Port != d.ports.GRPC:
				problems = append(problems, fmt.Sprintf("%s is a gRPC probe on port %d, but GRPC_ADDR=%q serves gRPC on %d", pr.kind, p.GRPC.Port, d.cfg.GRPCAddr, d.ports.GRPC))
			}
			if !slices.Contains(pr.grpcOK, p.GRPC.Service) {
				problems = append(problems, fmt.Sprintf("%s asks the gRPC health service for %q, want %q: that name answers for the %s set", pr.kind, p.GRPC.Service, pr.grpcOK[len(pr.grpcOK)-1], strings.TrimSuffix(pr.kind, "Probe")))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s is neither httpGet nor grpc: want httpGet %s on the admin port %d", pr.kind, pr.path, d.ports.Admin))
		}
	}
	d.add(RuleProbes, problems, "Probe the admin port (ADMIN_ADDR) at /startupz, /livez and /readyz (or gRPC on GRPC_ADDR with service startup, liveness or readiness); paved manifests writes them.",
		fmt.Sprintf("startup, liveness and readiness probes match ADMIN_ADDR %q", adminAddr))
}

func (d *deploymentCheck) checkProbeTimeouts() {
	var problems []string
	need := d.opts.ProbeWait + roundTrip
	for _, pr := range []struct {
		kind string
		p    *Probe
	}{{"startupProbe", d.c.StartupProbe}, {"livenessProbe", d.c.LivenessProbe}, {"readinessProbe", d.c.ReadinessProbe}} {
		if pr.p == nil {
			continue
		}
		t := pr.p.TimeoutSeconds
		if t == 0 {
			t = 1 // the Kubernetes default
		}
		if time.Duration(t)*time.Second < need {
			problems = append(problems, fmt.Sprintf("%s timeoutSeconds %d leaves no headroom over the probe wait %v plus %v for the round trip: a slow check would show as a probe timeout instead of a 503 naming it",
				pr.kind, t, d.opts.ProbeWait, roundTrip))
		}
	}
	d.add(RuleProbeTimeout, problems, fmt.Sprintf("Raise timeoutSeconds to at least %d, or lower health.Options.ProbeWait (docs/operations.md, Check timeouts and probe timeouts).", int((need+time.Second-1)/time.Second)),
		fmt.Sprintf("every probe's timeout leaves %v over the probe wait %v", roundTrip, d.opts.ProbeWait))
}

func (d *deploymentCheck) checkGrace() {
	grace := 30 // the Kubernetes default
	if g := d.dep.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	budget := service.StopBudget(d.cfg)
	var problems []string
	if time.Duration(grace)*time.Second < budget {
		problems = append(problems, fmt.Sprintf("terminationGracePeriodSeconds %d is below the stop budget %v (deregistration 2s + DRAIN_DELAY %v + SHUTDOWN_TIMEOUT %v + trace flush up to 5s): the kubelet's SIGKILL would cut requests in flight",
			grace, budget, d.cfg.DrainDelay, d.cfg.ShutdownTimeout))
	}
	d.add(RuleGracePeriod, problems, fmt.Sprintf("Set terminationGracePeriodSeconds to at least %d, or lower DRAIN_DELAY or SHUTDOWN_TIMEOUT.", int((budget+graceMargin+time.Second-1)/time.Second)),
		fmt.Sprintf("terminationGracePeriodSeconds %d covers the stop budget %v", grace, budget))
}

func (d *deploymentCheck) checkServices(services []k8s.Located[Service]) {
	labels := d.dep.Spec.Template.Metadata.Labels
	var problems []string
	n := 0
	for _, s := range services {
		if len(s.Object.Spec.Selector) == 0 || (s.Object.Metadata.Namespace != d.dep.Metadata.Namespace) {
			continue
		}
		selects := true
		for k, v := range s.Object.Spec.Selector {
			if labels[k] != v {
				selects = false
			}
		}
		if !selects {
			continue
		}
		n++
		for _, p := range s.Object.Spec.Ports {
			target := p.TargetPort
			if target.IsZero() {
				target = Int(p.Port)
			}
			if port, ok := d.portNumber(target); ok && port == d.ports.Admin {
				problems = append(problems, fmt.Sprintf("service/%s (%s) port %q exposes the admin port %d (/metrics, /config, pprof)", s.Object.Metadata.Name, s.File, or(p.Name, fmt.Sprint(p.Port)), d.ports.Admin))
			}
		}
	}
	d.add(RuleServicePorts, problems, "Expose only the public ports (HTTP_ADDR, GRPC_ADDR) in Services; Prometheus scrapes the admin port through the PodMonitor or the catalog's /api/v1/targets.",
		fmt.Sprintf("%d Services select the pods, none exposes the admin port", n))
}

func (d *deploymentCheck) checkEnvNames() {
	var problems []string
	for _, e := range d.c.Env {
		if err := d.known.Check(e.Name); err != nil {
			problems = append(problems, err.Error())
		}
	}
	fix := "Correct the name; if it is one of the service's own settings, pass its configuration reference with --config-reference FILE."
	pass := fmt.Sprintf("the %d variables set are ones the service reads", len(d.c.Env))
	if len(d.c.EnvFrom) > 0 && len(problems) == 0 {
		d.report.Findings = append(d.report.Findings, check.Finding{ID: RuleEnvNames, Status: check.StatusWarn,
			Message: d.where() + ": " + pass + "; the variables of envFrom are not checked", Fix: "List the variables under env, so they are checked."})
		return
	}
	d.add(RuleEnvNames, problems, fix, pass)
}

// WriteText writes r for a person: one line per finding with its fix, and the verdict.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "paved check --manifests %s\n%d objects, %d Deployments\n\n", r.Dir, r.Objects, r.Deployments)
	var failed []string
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-4s  %-31s %s\n", strings.ToUpper(string(f.Status)), f.ID, f.Message)
		if f.Fix != "" && f.Status != check.StatusPass {
			fmt.Fprintf(&b, "      %-31s fix: %s\n", "", f.Fix)
		}
		if f.Status == check.StatusFail && !slices.Contains(failed, f.ID) {
			failed = append(failed, f.ID)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\nFAIL: %s\n", strings.Join(failed, ", "))
	} else {
		b.WriteString("\nPASS: the manifests agree with the service's settings\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}
