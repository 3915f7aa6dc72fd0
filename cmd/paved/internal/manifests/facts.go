package manifests

import (
	"slices"
	"strconv"
	"time"

	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/compliance"
)

// monitors are the Prometheus Operator objects of a set.
type monitors struct {
	pod     []PodMonitor
	service []ServiceMonitor
}

// matches reports whether every label of sel is in labels (an empty selector matches
// nothing: Paved's objects always select).
func matches(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Facts returns what the Deployment d (its first container named after it, or its
// first) and the objects of the set around it say about the pods, as the compliance
// rule kubernetes-manifests reads them: probes (ports resolved against the container),
// the scrapes of the PodMonitors selecting the pods, of the ServiceMonitors selecting a
// Service that selects them, and of prometheus.io annotations, the grace period, the
// resources and the securityContext.
func (d *deploymentCheck) facts(services []located[Service], m monitors) *compliance.Kubernetes {
	spec := d.dep.Spec.Template.Spec
	k := &compliance.Kubernetes{Source: d.where(), TerminationGracePeriod: 30 * time.Second}
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		k.TerminationGracePeriod = time.Duration(*g) * time.Second
	}
	for _, pr := range []struct {
		kind string
		p    *Probe
	}{{compliance.ProbeStartup, d.c.StartupProbe}, {compliance.ProbeLiveness, d.c.LivenessProbe}, {compliance.ProbeReadiness, d.c.ReadinessProbe}} {
		if pr.p == nil {
			continue
		}
		kp := compliance.KubernetesProbe{Kind: pr.kind}
		switch p := pr.p; {
		case p.HTTPGet != nil:
			kp.Path = p.HTTPGet.Path
			kp.Port, _ = d.portNumber(p.HTTPGet.Port)
		case p.GRPC != nil:
			kp.GRPC, kp.Port = true, p.GRPC.Port
		case p.TCPSocket != nil:
			kp.Other = "tcpSocket"
		case p.Exec != nil:
			kp.Other = "exec"
		default:
			kp.Other = "empty"
		}
		k.Probes = append(k.Probes, kp)
	}
	labels := d.dep.Spec.Template.Metadata.Labels
	ns := d.dep.Metadata.Namespace
	for _, pm := range m.pod {
		if pm.Metadata.Namespace != ns || !matches(pm.Spec.Selector.MatchLabels, labels) {
			continue
		}
		for _, e := range pm.Spec.PodMetricsEndpoints {
			port, _ := d.portNumber(Str(e.Port))
			k.Scrapes = append(k.Scrapes, compliance.KubernetesScrape{Via: "PodMonitor/" + pm.Metadata.Name, Port: port, Path: e.Path})
		}
	}
	for _, sm := range m.service {
		for _, s := range services {
			if s.v.Metadata.Namespace != ns || sm.Metadata.Namespace != ns ||
				!matches(sm.Spec.Selector.MatchLabels, s.v.Metadata.Labels) || !matches(s.v.Spec.Selector, labels) {
				continue
			}
			for _, e := range sm.Spec.Endpoints {
				target := e.TargetPort
				if e.Port != "" {
					i := slices.IndexFunc(s.v.Spec.Ports, func(p ServicePort) bool { return p.Name == e.Port })
					if i < 0 {
						continue // a port this Service lacks: the endpoint scrapes nothing here
					}
					if target = s.v.Spec.Ports[i].TargetPort; target.IsZero() {
						target = Int(s.v.Spec.Ports[i].Port)
					}
				}
				port, _ := d.portNumber(target)
				k.Scrapes = append(k.Scrapes, compliance.KubernetesScrape{Via: "ServiceMonitor/" + sm.Metadata.Name, Port: port, Path: e.Path})
			}
		}
	}
	if a := d.dep.Spec.Template.Metadata.Annotations; a["prometheus.io/scrape"] == "true" {
		port, _ := strconv.Atoi(a["prometheus.io/port"])
		k.Scrapes = append(k.Scrapes, compliance.KubernetesScrape{Via: "annotations", Port: port, Path: a["prometheus.io/path"]})
	}
	if r := d.c.Resources; r != nil {
		k.CPURequest, k.MemoryRequest, k.MemoryLimit = r.Requests["cpu"], r.Requests["memory"], r.Limits["memory"]
	}
	if sc := spec.SecurityContext; sc != nil && sc.RunAsNonRoot != nil {
		k.RunAsNonRoot = *sc.RunAsNonRoot
	}
	if sc := d.c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			k.RunAsNonRoot = *sc.RunAsNonRoot
		}
		k.ReadOnlyRootFilesystem = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		k.NoPrivilegeEscalation = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
		k.DropsAllCapabilities = sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL")
	}
	return k
}

// checkCompliance evaluates the compliance rule kubernetes-manifests on the facts of
// the Deployment, with the settings its environment gives the service.
func (d *deploymentCheck) checkCompliance(services []located[Service], m monitors) {
	if len(d.dep.Spec.Template.Spec.Containers) == 0 {
		return // reported by the probes finding
	}
	rule, ok := compliance.DefaultRuleSet().Rule("kubernetes-manifests")
	if !ok {
		return
	}
	f := compliance.Facts{AdminAddr: d.cfg.AdminAddr, GRPCAddr: d.cfg.GRPCAddr, DrainDelay: d.cfg.DrainDelay,
		ShutdownTimeout: d.cfg.ShutdownTimeout, Kubernetes: d.facts(services, m)}
	res := rule.Check(f)
	fd := check.Finding{ID: RuleCompliance, Status: check.StatusPass, Message: res.Message}
	if res.Status == compliance.StatusFail {
		fd.Status, fd.Fix = check.StatusFail, rule.Fix
	}
	d.report.Findings = append(d.report.Findings, fd)
}
